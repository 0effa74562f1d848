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
import type { AppCallbacks, BulkResult, Outcome } from "../app/callbacks.ts";
import type { SubscriptionResource, SubscriptionRule } from "../resources/model.ts";
import type { Runtime } from "../runtime.ts";
import { CLOUDEVENT_CONTENT_TYPE, wrapRawPayload } from "./cloudevent.ts";
import { type CompiledRule, compileRules, matchRule } from "./routing.ts";

export type SubscriptionType = "DECLARATIVE" | "PROGRAMMATIC" | "STREAMING";

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

/**
 * A programmatic subscription's metadata, over either app protocol. The JS SDK JSON-encodes each
 * value, so a string arrives quoted: one pair of quotes is stripped.
 */
export function subscriptionMetadata(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (v === null || v === undefined) continue;
    const value = String(v);
    out[k] =
      value.length >= 2 && value.startsWith('"') && value.endsWith('"')
        ? value.slice(1, -1)
        : value;
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

/** The subscriptions listed, with each stream replacing another one for its topic, as daprd. */
export function withStreams(
  subscriptions: Subscription[],
  streams: Subscription[],
): Subscription[] {
  const key = (s: Subscription) => `${s.pubsubname}\u0000${s.topic}`;
  const streamed = new Set(streams.map(key));
  return [...subscriptions.filter((s) => !streamed.has(key(s))), ...streams];
}

/**
 * Where a subscription's messages go instead of the app's routes (a streaming subscription): it
 * answers each envelope with an outcome, read as the app's answer is.
 */
export type EventSink = (
  event: Record<string, unknown>,
  message: PubSubMessage,
) => Promise<Outcome>;

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
  sink?: EventSink;
  signal: AbortSignal;
}

/**
 * Delivers messages of the app's subscriptions to the app and reads its answers, over either
 * app protocol. Deliveries in flight when it stops are left to finish (the drain waits for
 * them); the channel aborts them when it closes.
 */
export class Subscriber {
  readonly #runtime: Runtime;
  readonly #app: AppCallbacks | undefined;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  /** Deliveries are not aborted by stop(): the channel's close and each call's timeout end them. */
  readonly #delivering = new AbortController().signal;
  readonly active: Subscription[] = [];
  readonly #track: <T>(fn: () => Promise<T>) => Promise<T>;

  /** `track` wraps each delivery, so a graceful shutdown waits for those in flight. */
  constructor(
    runtime: Runtime,
    app: AppCallbacks | undefined,
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
        signal: this.#abort.signal,
      };
      await this.#subscribe(active);
      this.active.push(s);
    }
  }

  /**
   * Subscribes `s` with its messages going to `sink` rather than to the app, until `signal` aborts
   * (or the subscriber stops); the same envelope, expiry and dead-letter rules as the app's.
   */
  async stream(s: Subscription, sink: EventSink, signal: AbortSignal): Promise<void> {
    await this.#subscribe({
      ...s,
      compiled: [],
      raw: isTruthy(s.metadata.rawPayload ?? s.metadata.rawpayload),
      sink,
      signal: AbortSignal.any([this.#abort.signal, signal]),
    });
  }

  #appCallbacks(): AppCallbacks {
    if (!this.#app) throw new Error("no app channel to deliver to");
    return this.#app;
  }

  async #subscribe(s: Active): Promise<void> {
    const pubsub = this.#runtime.pubsub(s.pubsubname);
    const request = { topic: s.topic, metadata: s.metadata, signal: s.signal };
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
    const rule = s.sink ? { route: "/", path: "/" } : matchRule(s.compiled, event);
    if (!rule) {
      await this.#deadLetter(s, event, "no route matched");
      return;
    }
    let outcome: Outcome;
    let detail = "";
    try {
      if (s.sink) {
        outcome = await s.sink(event, message);
        detail = `stream answered ${outcome}`;
      } else {
        ({ outcome, detail } = await this.#appCallbacks().topicEvent(
          {
            pubsubname: s.pubsubname,
            topic: s.topic,
            path: rule.route,
            event,
            metadata: message.metadata,
          },
          this.#delivering,
        ));
      }
    } catch (error) {
      // A stream that ended gives its unanswered messages back to the broker, not to the DLQ.
      if (s.sink && s.signal.aborted) throw error;
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
    throw new Error(`delivery to ${rule.path} failed (${detail}); the message is retried`);
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
      const path = expired(event) ? undefined : matchRule(s.compiled, event)?.route;
      if (path === undefined) {
        await this.#deadLetter(s, event, "expired or no route matched");
        results.set(e.entryId, { entryId: e.entryId });
        continue;
      }
      const group = byPath.get(path) ?? [];
      group.push({ entryId: e.entryId, event, metadata: e.metadata });
      byPath.set(path, group);
    }
    for (const [path, entries] of byPath) {
      let answer: BulkResult;
      try {
        answer = await this.#appCallbacks().bulkTopicEvent(
          {
            id: randomUUID(),
            pubsubname: s.pubsubname,
            topic: message.topic,
            path,
            metadata: message.metadata,
            raw: s.raw,
            entries,
          },
          this.#delivering,
        );
      } catch {
        answer = { all: "RETRY", statuses: new Map() };
      }
      const { all, statuses } = answer;
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
