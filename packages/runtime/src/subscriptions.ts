import { randomUUID } from "node:crypto";
import {
  type BulkMessage,
  bulkSubscribeByBatching,
  encodeValue,
  isTruthy,
  type Logger,
  type Metadata,
  type PubSubMessage,
  utf8,
} from "@outrig/core";
import type { AppChannel, AppResponse } from "./app-channel.ts";
import { CLOUDEVENT_CONTENT_TYPE, sortedKeys, wrapRawPayload } from "./cloudevents.ts";
import type { SubscriptionResource, SubscriptionRule } from "./resources/model.ts";
import { type CompiledRule, compileRules, routeEvent } from "./routing.ts";
import type { Runtime } from "./runtime.ts";

export type SubscriptionType = "DECLARATIVE" | "PROGRAMMATIC";

export interface Subscription {
  pubsubname: string;
  topic: string;
  rules: SubscriptionRule[];
  deadLetterTopic: string | undefined;
  metadata: Record<string, string>;
  bulkSubscribe:
    | { enabled: boolean; maxMessagesCount?: number; maxAwaitDurationMs?: number }
    | undefined;
  type: SubscriptionType;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The JS SDK JSON-encodes metadata values, so a string arrives quoted: strip one pair of quotes. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

/** Reads the app's `GET /dapr/subscribe` answer leniently (field names in any case). */
export function parseProgrammatic(body: unknown, logger: Logger): Subscription[] {
  if (!Array.isArray(body)) return [];
  const out: Subscription[] = [];
  for (const raw of body) {
    if (raw === null || typeof raw !== "object") continue;
    const get = (name: string): unknown => {
      const rec = raw as Record<string, unknown>;
      if (name in rec) return rec[name];
      const k = Object.keys(rec).find((x) => x.toLowerCase() === name.toLowerCase());
      return k === undefined ? undefined : rec[k];
    };
    const pubsubname = str(get("pubsubname"));
    const topic = str(get("topic"));
    if (!pubsubname || !topic) {
      logger.warn("ignoring a subscription without pubsubname or topic");
      continue;
    }
    const rules: SubscriptionRule[] = [];
    const routes = get("routes") as { rules?: unknown; default?: unknown } | undefined;
    if (routes && Array.isArray(routes.rules)) {
      for (const r of routes.rules as { match?: unknown; path?: unknown }[]) {
        if (typeof r?.path === "string") rules.push({ match: str(r.match) ?? "", path: r.path });
      }
    }
    const fallback = str(routes?.default) ?? str(get("route"));
    if (fallback) rules.push({ match: "", path: fallback });
    if (rules.length === 0) {
      logger.warn("ignoring a subscription without routes", { pubsubname, topic });
      continue;
    }
    const metadata: Record<string, string> = {};
    const m = get("metadata");
    if (m && typeof m === "object") {
      for (const [k, v] of Object.entries(m))
        if (v !== null && v !== undefined) metadata[k] = unquote(String(v));
    }
    const bulk = get("bulkSubscribe") as Record<string, unknown> | undefined;
    out.push({
      pubsubname,
      topic,
      rules,
      deadLetterTopic: str(get("deadLetterTopic")) || undefined,
      metadata,
      bulkSubscribe:
        bulk && typeof bulk === "object"
          ? {
              enabled: bulk.enabled === true || isTruthy(String(bulk.enabled ?? "")),
              ...(bulk.maxMessagesCount !== undefined
                ? { maxMessagesCount: Number(bulk.maxMessagesCount) }
                : {}),
              ...(bulk.maxAwaitDurationMs !== undefined
                ? { maxAwaitDurationMs: Number(bulk.maxAwaitDurationMs) }
                : {}),
            }
          : undefined,
      type: "PROGRAMMATIC",
    });
  }
  return out;
}

export function fromDeclarative(s: SubscriptionResource): Subscription {
  return {
    pubsubname: s.pubsubname,
    topic: s.topic,
    rules: s.rules,
    deadLetterTopic: s.deadLetterTopic,
    metadata: s.metadata,
    bulkSubscribe: s.bulkSubscribe,
    type: "DECLARATIVE",
  };
}

/** Declarative subscriptions first; a programmatic one for the same pubsub and topic is dropped. */
export function mergeSubscriptions(
  declarative: Subscription[],
  programmatic: Subscription[],
  logger: Logger,
): Subscription[] {
  const out = [...declarative];
  const seen = new Set(declarative.map((s) => `${s.pubsubname}\u0000${s.topic}`));
  for (const s of programmatic) {
    const key = `${s.pubsubname}\u0000${s.topic}`;
    if (seen.has(key)) {
      logger.warn(
        "a declarative subscription already covers this topic; the app's one is ignored",
        { pubsubname: s.pubsubname, topic: s.topic },
      );
      continue;
    }
    seen.add(key);
    out.push(s);
  }
  return out;
}

type Outcome = "SUCCESS" | "RETRY" | "DROP";

/** Reads a delivery reply as daprd does. */
export function readOutcome(response: Pick<AppResponse, "status" | "body">): Outcome {
  const { status } = response;
  if (status >= 200 && status < 300) {
    if (response.body.length === 0) return "SUCCESS";
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString("utf8"));
    } catch {
      return "SUCCESS";
    }
    const s =
      parsed !== null && typeof parsed === "object"
        ? (parsed as { status?: unknown }).status
        : undefined;
    if (s === undefined || s === null || s === "") return "SUCCESS";
    const upper = String(s).toUpperCase();
    if (upper === "SUCCESS" || upper === "RETRY" || upper === "DROP") return upper;
    return "RETRY";
  }
  if (status === 404) return "DROP";
  return "RETRY";
}

function headerSafe(value: string): boolean {
  return !/[\r\n\0]/.test(value) && /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}

function messageHeaders(
  metadata: Metadata,
  pubsubname: string,
  event: Record<string, unknown>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(k) && headerSafe(v)) headers[k] = v;
  }
  headers.pubsubname = pubsubname;
  if (typeof event.traceparent === "string" && event.traceparent)
    headers.traceparent = event.traceparent;
  if (typeof event.tracestate === "string" && event.tracestate)
    headers.tracestate = event.tracestate;
  headers["content-type"] = CLOUDEVENT_CONTENT_TYPE;
  return headers;
}

/** The envelope an app receives for a message (raw payloads get a fresh one). */
export function envelopeFor(
  message: Pick<PubSubMessage, "data" | "topic">,
  pubsubname: string,
  raw: boolean,
): Record<string, unknown> {
  if (!raw) {
    try {
      const parsed = JSON.parse(utf8(message.data)) as unknown;
      if (
        parsed !== null &&
        typeof parsed === "object" &&
        !Array.isArray(parsed) &&
        "specversion" in parsed
      ) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // Not a CloudEvent: delivered wrapped, like a raw payload.
    }
  }
  return wrapRawPayload(message.data, message.topic, pubsubname);
}

function expired(event: Record<string, unknown>): boolean {
  const expiration = event.expiration;
  if (typeof expiration !== "string") return false;
  const at = Date.parse(expiration);
  return Number.isFinite(at) && at < Date.now();
}

interface Active extends Subscription {
  compiled: CompiledRule[];
  raw: boolean;
}

/** Delivers messages of the app's subscriptions to the app and reads its answers. */
export class Subscriber {
  readonly #runtime: Runtime;
  readonly #app: AppChannel;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly active: Subscription[] = [];
  readonly #track: <T>(fn: () => Promise<T>) => Promise<T>;

  /** `track` wraps each delivery, so a graceful shutdown waits for those in flight. */
  constructor(
    runtime: Runtime,
    app: AppChannel,
    logger: Logger,
    track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
  ) {
    this.#runtime = runtime;
    this.#app = app;
    this.#logger = logger;
    this.#track = track;
  }

  async start(subscriptions: Subscription[]): Promise<void> {
    for (const s of subscriptions) {
      if (!this.#runtime.has("pubsub", s.pubsubname)) {
        this.#logger.warn("subscription for an unknown pubsub is ignored", {
          pubsubname: s.pubsubname,
          topic: s.topic,
        });
        continue;
      }
      let compiled: CompiledRule[];
      try {
        compiled = await compileRules(s.rules);
      } catch (error) {
        this.#logger.error("subscription ignored", {
          pubsubname: s.pubsubname,
          topic: s.topic,
          error: (error as Error).message,
        });
        continue;
      }
      const active: Active = {
        ...s,
        compiled,
        raw: isTruthy(s.metadata.rawPayload ?? s.metadata.rawpayload),
      };
      await this.#subscribe(active);
      this.active.push(s);
    }
  }

  async #subscribe(s: Active): Promise<void> {
    const pubsub = this.#runtime.pubsub(s.pubsubname);
    const request = { topic: s.topic, metadata: s.metadata, signal: this.#abort.signal };
    if (s.bulkSubscribe?.enabled) {
      const bulkRequest = {
        ...request,
        ...(s.bulkSubscribe.maxMessagesCount
          ? { maxMessagesCount: s.bulkSubscribe.maxMessagesCount }
          : {}),
        ...(s.bulkSubscribe.maxAwaitDurationMs
          ? { maxAwaitDurationMs: s.bulkSubscribe.maxAwaitDurationMs }
          : {}),
      };
      const handler = (m: BulkMessage) => this.#track(() => this.#deliverBulk(s, m));
      if (pubsub.capabilities.has("BULK_SUBSCRIBE"))
        await pubsub.bulkSubscribe(bulkRequest, handler);
      else await bulkSubscribeByBatching(pubsub.subscribe.bind(pubsub), bulkRequest, handler);
      return;
    }
    await pubsub.subscribe(request, (m) => this.#track(() => this.#deliver(s, m)));
  }

  async #deadLetter(s: Active, event: Record<string, unknown>, why: string): Promise<boolean> {
    if (!s.deadLetterTopic) return false;
    await this.#runtime.pubsub(s.pubsubname).publish({
      topic: s.deadLetterTopic,
      data: encodeValue(event),
      metadata: {},
      contentType: CLOUDEVENT_CONTENT_TYPE,
    });
    this.#logger.warn("message sent to the dead-letter topic", {
      topic: s.topic,
      deadLetterTopic: s.deadLetterTopic,
      why,
    });
    return true;
  }

  async #deliver(s: Active, message: PubSubMessage): Promise<void> {
    const event = envelopeFor(message, s.pubsubname, s.raw);
    if (expired(event)) {
      await this.#deadLetter(s, event, "expired");
      return;
    }
    const path = routeEvent(s.compiled, event);
    if (!path) {
      await this.#deadLetter(s, event, "no route matched");
      return;
    }
    let outcome: Outcome;
    let detail = "";
    try {
      const response = await this.#app.request({
        method: "POST",
        path,
        headers: messageHeaders(message.metadata, s.pubsubname, event),
        body: JSON.stringify(event),
      });
      outcome = readOutcome(response);
      detail = `status ${response.status}`;
    } catch (error) {
      outcome = "RETRY";
      detail = (error as Error).message;
    }
    if (outcome === "SUCCESS") return;
    if (outcome === "DROP") {
      this.#logger.warn("app dropped the message", { topic: s.topic, detail });
      await this.#deadLetter(s, event, "dropped by the app");
      return;
    }
    if (await this.#deadLetter(s, event, `delivery failed: ${detail}`)) return;
    throw new Error(`delivery to ${path} failed (${detail}); the message is retried`);
  }

  async #deliverBulk(
    s: Active,
    message: BulkMessage,
  ): Promise<{ entryId: string; error?: string }[]> {
    const results = new Map<string, { entryId: string; error?: string }>();
    const byPath = new Map<
      string,
      { entryId: string; event: Record<string, unknown>; metadata: Metadata }[]
    >();
    for (const e of message.entries) {
      const event = envelopeFor({ data: e.event, topic: message.topic }, s.pubsubname, s.raw);
      const path = expired(event) ? undefined : routeEvent(s.compiled, event);
      if (!path) {
        await this.#deadLetter(s, event, "expired or no route matched");
        results.set(e.entryId, { entryId: e.entryId });
        continue;
      }
      const group = byPath.get(path) ?? [];
      group.push({ entryId: e.entryId, event, metadata: e.metadata });
      byPath.set(path, group);
    }
    for (const [path, entries] of byPath) {
      const body = {
        id: randomUUID(),
        type: "com.dapr.event.sent.bulk",
        topic: message.topic,
        pubsubname: s.pubsubname,
        metadata: message.metadata,
        entries: entries.map((e) => ({
          entryId: e.entryId,
          // As daprd: a raw entry is its bytes in base64; a CloudEvent is re-encoded from a map.
          event: s.raw ? (e.event.data_base64 as string) : sortedKeys(e.event),
          contentType: s.raw ? "application/octet-stream" : CLOUDEVENT_CONTENT_TYPE,
          metadata: e.metadata,
        })),
      };
      let statuses = new Map<string, Outcome>();
      let all: Outcome | undefined;
      try {
        const response = await this.#app.request({
          method: "POST",
          path,
          headers: { "content-type": "application/json", pubsubname: s.pubsubname },
          body: JSON.stringify(body),
        });
        if (response.status === 404) all = "DROP";
        else if (response.status < 200 || response.status >= 300) all = "RETRY";
        else {
          const parsed = JSON.parse(response.body.toString("utf8") || "{}") as {
            statuses?: { entryId?: string; status?: string }[];
          };
          statuses = new Map(
            (parsed.statuses ?? []).map((x) => [
              String(x.entryId),
              (String(x.status ?? "SUCCESS").toUpperCase() || "SUCCESS") as Outcome,
            ]),
          );
        }
      } catch {
        all = "RETRY";
      }
      for (const e of entries) {
        const outcome = all ?? statuses.get(e.entryId) ?? "RETRY";
        if (outcome === "SUCCESS") {
          results.set(e.entryId, { entryId: e.entryId });
          continue;
        }
        const deadLettered = await this.#deadLetter(s, e.event, `bulk delivery: ${outcome}`).catch(
          () => false,
        );
        // A dropped entry is acknowledged either way; a failed one only once it is dead-lettered.
        results.set(
          e.entryId,
          outcome === "DROP" || deadLettered
            ? { entryId: e.entryId }
            : { entryId: e.entryId, error: outcome },
        );
      }
    }
    return message.entries.map(
      (e) => results.get(e.entryId) ?? { entryId: e.entryId, error: "RETRY" },
    );
  }

  stop(): void {
    this.#abort.abort();
  }
}
