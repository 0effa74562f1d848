import { getMetadata, isInputBinding, type Logger, type SetRequest } from "@outrig/core";
import type { AppChannel } from "./app-channel.ts";
import type { Runtime } from "./runtime.ts";

/**
 * Starts every input binding the app listens to: probed with OPTIONS on its route (2xx or 405 =
 * listening) unless its `direction` metadata already says `input`; events are POSTed to the
 * route as `application/json`, and anything but 200 is a failure the binding retries.
 */
export async function startInputBindings(
  runtime: Runtime,
  app: AppChannel,
  logger: Logger,
  signal: AbortSignal,
  track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
): Promise<string[]> {
  const started: string[] = [];
  for (const component of runtime.components) {
    if (component.kind !== "bindings" || !isInputBinding(component.instance)) continue;
    const direction = getMetadata(component.metadata, "direction") ?? "";
    const route = `/${(getMetadata(component.metadata, "route") || component.name).replace(/^\/+/, "")}`;
    if (!direction.includes("input")) {
      if (direction.includes("output")) continue;
      try {
        const probe = await app.request({ method: "OPTIONS", path: route, timeoutMs: 5000 });
        if (!((probe.status >= 200 && probe.status < 300) || probe.status === 405)) {
          logger.debug("app does not listen to input binding", {
            name: component.name,
            status: probe.status,
          });
          continue;
        }
      } catch (error) {
        logger.warn("input binding probe failed", {
          name: component.name,
          error: (error as Error).message,
        });
        continue;
      }
    }
    await component.instance.read(
      (event) =>
        track(async () => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          for (const [k, v] of Object.entries(event.metadata)) {
            if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && !/[\r\n\0]/.test(v)) headers[k] = v;
          }
          const response = await app.request({
            method: "POST",
            path: route,
            headers,
            body: Buffer.from(event.data),
          });
          if (response.status !== 200) {
            throw new Error(`app answered ${response.status} to input binding ${component.name}`);
          }
          await applyLegacyReply(runtime, response.body, logger);
          return response.body.length > 0 ? new Uint8Array(response.body) : undefined;
        }),
      signal,
    );
    started.push(component.name);
    logger.info("input binding started", { name: component.name, route });
  }
  return started;
}

/**
 * Dapr's legacy input-binding reply: `{storeName, state: [...]}` saves state and
 * `{to: [bindings], data, concurrency}` sends `data` to output bindings. Other replies are ignored.
 */
export async function applyLegacyReply(
  runtime: Runtime,
  body: Buffer,
  logger: Logger,
): Promise<void> {
  if (body.length === 0 || body[0] !== 0x7b) return;
  let reply: {
    storeName?: unknown;
    state?: unknown;
    to?: unknown;
    data?: unknown;
    concurrency?: unknown;
  };
  try {
    reply = JSON.parse(body.toString("utf8"));
  } catch {
    return;
  }
  if (typeof reply.storeName === "string" && Array.isArray(reply.state) && reply.state.length > 0) {
    const items: SetRequest[] = (
      reply.state as {
        key?: unknown;
        value?: unknown;
        etag?: unknown;
        metadata?: Record<string, string>;
      }[]
    )
      .filter((i) => typeof i?.key === "string")
      .map((i) => ({
        key: i.key as string,
        value: i.value,
        ...(typeof i.etag === "string" && i.etag ? { etag: i.etag } : {}),
        ...(i.metadata ? { metadata: i.metadata } : {}),
      }));
    await runtime.stateStore(reply.storeName).bulkSet(items);
  }
  if (Array.isArray(reply.to) && reply.to.length > 0) {
    const send = (name: string) => runtime.invokeBinding(name, "create", reply.data);
    const names = reply.to.filter((n): n is string => typeof n === "string");
    if (reply.concurrency === "sequential") for (const n of names) await send(n);
    else await Promise.all(names.map(send));
    logger.debug("input binding reply sent to output bindings", { to: names });
  }
}
