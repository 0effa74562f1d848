import type { AppChannel, AppResponse } from "../app/channel.ts";

/**
 * The calls the actor runtime makes to the app hosting the actors, as Dapr's HTTP actor
 * protocol has them (the JS, Java, Python and .NET SDKs serve these routes). Dapr's gRPC
 * AppCallback defines no actor callbacks, so only HTTP apps host actors.
 */
export interface ActorApp {
  /** `GET /dapr/config`; undefined when the app has no such route (it hosts no actors). */
  config(signal: AbortSignal): Promise<unknown>;
  /** `PUT /actors/{type}/{id}/method/{method}` with the caller's body and headers. */
  method(call: AppCall & { method: string; query: string }): Promise<AppResponse>;
  /** `PUT /actors/{type}/{id}/method/timer/{name}` with `{data, callback, dueTime, period}`. */
  timer(call: AppCall & { name: string }): Promise<AppResponse>;
  /** `PUT /actors/{type}/{id}/method/remind/{name}` with `{data, dueTime, period}`. */
  reminder(call: AppCall & { name: string }): Promise<AppResponse>;
  /** `DELETE /actors/{type}/{id}`: the actor is deactivated. */
  deactivate(call: Omit<AppCall, "body" | "headers">): Promise<AppResponse>;
}

export interface AppCall {
  type: string;
  id: string;
  body: Buffer | string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const e = encodeURIComponent;

function actorPath(type: string, id: string): string {
  return `/actors/${e(type)}/${e(id)}`;
}

/** The actor protocol over the app's HTTP channel (token and app-max-concurrency apply). */
export function httpActorApp(app: AppChannel): ActorApp {
  const put = (path: string, call: AppCall) =>
    app.request({
      method: "PUT",
      path,
      headers: call.headers,
      body: call.body,
      timeoutMs: call.timeoutMs,
      ...(call.signal ? { signal: call.signal } : {}),
    });
  const callback = (call: AppCall & { name: string }, kind: "timer" | "remind") =>
    put(`${actorPath(call.type, call.id)}/method/${kind}/${e(call.name)}`, {
      ...call,
      headers: { "content-type": "application/json", ...call.headers },
    });
  return {
    async config(signal) {
      const response = await app.request({
        method: "GET",
        path: "/dapr/config",
        timeoutMs: 10_000,
        signal,
      });
      // As daprd: an app without the route (or failing it) hosts no actors.
      if (response.status < 200 || response.status >= 300) return undefined;
      const text = response.body.toString("utf8");
      try {
        return text.trim() === "" ? undefined : (JSON.parse(text) as unknown);
      } catch {
        // A catch-all route answering something else: the app hosts no actors.
        return undefined;
      }
    },
    method: (call) =>
      put(`${actorPath(call.type, call.id)}/method/${e(call.method)}${call.query}`, call),
    timer: (call) => callback(call, "timer"),
    reminder: (call) => callback(call, "remind"),
    deactivate: (call) =>
      app.request({
        method: "DELETE",
        path: actorPath(call.type, call.id),
        timeoutMs: call.timeoutMs,
        ...(call.signal ? { signal: call.signal } : {}),
      }),
  };
}
