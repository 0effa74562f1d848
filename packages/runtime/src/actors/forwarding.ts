import type { AppResponse } from "../app/channel.ts";
import { HttpTarget } from "../app/http-client.ts";
import type { Ownership } from "./placement.ts";
import type { Reminder } from "./reminders.ts";

/** On a call one sidecar forwards to another: the caller's placement epoch. Never forwarded again. */
export const FORWARDED_HEADER = "outrig-actor-forwarded";
/** On the answer of a sidecar that was forwarded a call it does not own: its epoch. */
export const NOT_OWNER_HEADER = "outrig-actor-not-owner";

/**
 * The sidecar-to-sidecar route of a reminder tick fired on a sidecar that does not own it. Under
 * `/v1.0/actors`, so a Configuration's `api.allowed`/`denied` of the actors API governs it too.
 */
export const forwardedReminderPath = (r: Pick<Reminder, "type" | "id" | "name">) =>
  `/v1.0/actors/${encodeURIComponent(r.type)}/${encodeURIComponent(r.id)}/outrig-forwarded-reminders/${encodeURIComponent(r.name)}`;

export type RemoteOwner = Extract<Ownership, { kind: "remote" }>;

/** The owner refused a forwarded call: by its membership (at `epoch`) it is not the owner. */
export class NotOwner {
  readonly epoch: number;
  constructor(epoch: number) {
    this.epoch = epoch;
  }
}

/** The owner could not be connected to: the call never reached it, so it may go elsewhere. */
export class OwnerUnreachable extends Error {
  constructor(owner: RemoteOwner, cause: unknown) {
    super(`the sidecar of ${owner.appId} at ${owner.host}:${owner.port} is unreachable`, { cause });
    this.name = "OwnerUnreachable";
  }
}

export interface ForwardedCall {
  type: string;
  id: string;
  method: string;
  body: Buffer;
  headers: Record<string, string>;
  query: string;
}

const SKIPPED = new Set(["host", "content-length", "connection", "transfer-encoding"]);

function notConnected(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH";
}

/** Calls other sidecars' HTTP APIs for the actors they own, one keep-alive pool per sidecar. */
export class ActorForwarder {
  readonly #targets = new Map<string, HttpTarget>();
  readonly #apiToken: string | undefined;

  constructor(apiToken: string | undefined) {
    this.#apiToken = apiToken;
  }

  #target(owner: RemoteOwner): HttpTarget {
    const key = `${owner.host}:${owner.port}`;
    let t = this.#targets.get(key);
    if (!t) {
      t = new HttpTarget(owner.host, owner.port, 64);
      this.#targets.set(key, t);
    }
    return t;
  }

  #headers(owner: RemoteOwner, from: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(from)) if (!SKIPPED.has(k.toLowerCase())) out[k] = v;
    out[FORWARDED_HEADER] = String(owner.epoch);
    if (this.#apiToken) out["dapr-api-token"] = this.#apiToken;
    return out;
  }

  async #call(
    owner: RemoteOwner,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | string,
    timeoutMs: number,
    signal?: AbortSignal,
  ) {
    try {
      return await this.#target(owner).call(method, path, headers, body, timeoutMs, signal);
    } catch (error) {
      if (notConnected(error)) throw new OwnerUnreachable(owner, error);
      throw error;
    }
  }

  /** An actor method call on its owner: the owner's answer, or NotOwner. */
  async invoke(
    owner: RemoteOwner,
    call: ForwardedCall,
    timeoutMs: number,
  ): Promise<AppResponse | NotOwner> {
    const path = `/v1.0/actors/${encodeURIComponent(call.type)}/${encodeURIComponent(call.id)}/method/${encodeURIComponent(call.method)}${call.query}`;
    const answer = await this.#call(
      owner,
      "PUT",
      path,
      this.#headers(owner, call.headers),
      call.body,
      timeoutMs,
    );
    const refused = answer.headers[NOT_OWNER_HEADER];
    if (answer.status === 409 && typeof refused === "string") return new NotOwner(Number(refused));
    return { status: answer.status, headers: answer.headers, body: answer.body };
  }

  /** A reminder tick on its owner: true when the app took it, or NotOwner. */
  async reminder(
    owner: RemoteOwner,
    reminder: Reminder,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<boolean | NotOwner> {
    const answer = await this.#call(
      owner,
      "POST",
      forwardedReminderPath(reminder),
      this.#headers(owner, { "content-type": "application/json" }),
      JSON.stringify(reminder),
      timeoutMs,
      signal,
    );
    const refused = answer.headers[NOT_OWNER_HEADER];
    if (answer.status === 409 && typeof refused === "string") return new NotOwner(Number(refused));
    return answer.status >= 200 && answer.status < 300;
  }

  close(): void {
    for (const t of this.#targets.values()) t.close();
    this.#targets.clear();
  }
}
