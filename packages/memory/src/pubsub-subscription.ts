import { setTimeout as delay } from "node:timers/promises";
import {
  type BulkMessage,
  type BulkMessageHandler,
  errorMessage,
  type Logger,
  type MessageHandler,
  type Metadata,
  type PubSubMessage,
} from "@outrig/core";
import Denque from "denque";
import type { TopicMatcher } from "./pubsub-topic.ts";

/** A published message as every subscription queues it; never mutated after publish. */
export interface Envelope {
  readonly id: string;
  readonly topic: string;
  readonly data: Uint8Array;
  readonly metadata: Metadata;
  readonly contentType: string | undefined;
  /** Epoch ms after which the message is dropped instead of delivered. */
  readonly expiresAt: number | undefined;
  readonly partitionKey: string | undefined;
}

export interface SubscriptionSettings {
  matches: TopicMatcher;
  /** Wait before the n-th consecutive redelivery (1-based). */
  backoff: (attempt: number) => number;
  logger: Logger;
}

function isExpired(envelope: Envelope, now: number): boolean {
  return envelope.expiresAt !== undefined && now >= envelope.expiresAt;
}

/** Each delivery gets its own copies, so a handler that mutates one cannot corrupt a redelivery. */
function toMessage(envelope: Envelope): PubSubMessage {
  return {
    topic: envelope.topic,
    data: envelope.data.slice(),
    metadata: { ...envelope.metadata },
    ...(envelope.contentType !== undefined ? { contentType: envelope.contentType } : {}),
  };
}

export abstract class Subscription {
  readonly matches: TopicMatcher;
  protected readonly settings: SubscriptionSettings;
  readonly #stop = new AbortController();

  constructor(settings: SubscriptionSettings) {
    this.matches = settings.matches;
    this.settings = settings;
  }

  abstract enqueue(envelope: Envelope): void;

  get ended(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Stops delivery at once: queued messages are dropped and no handler is called again. */
  end(): void {
    this.#stop.abort();
  }

  /** Sleeps, but wakes early when the subscription ends. */
  protected pause(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.#stop.signal }).catch(() => undefined);
  }
}

/**
 * One subscriber's queue, split into lanes that each deliver one message at a time: one lane per
 * partition key in parallel mode (messages without a key are delivered on their own, concurrently),
 * a single lane in single mode. A failed message stays at the head of its lane and is retried after a backoff, so a
 * partition key's messages are handled in publish order even across redeliveries.
 */
export class MessageSubscription extends Subscription {
  readonly #handler: MessageHandler;
  readonly #single: boolean;
  // Denque: O(1) shift where an array's shift copies the whole backlog (quadratic in single mode).
  readonly #lanes = new Map<string | undefined, Denque<Envelope>>();

  constructor(
    settings: SubscriptionSettings,
    handler: MessageHandler,
    mode: "single" | "parallel",
  ) {
    super(settings);
    this.#handler = handler;
    this.#single = mode === "single";
  }

  enqueue(envelope: Envelope): void {
    if (this.ended) return;
    // Deliver outside the publisher's call stack, so a handler that publishes cannot recurse.
    if (!this.#single && envelope.partitionKey === undefined) {
      setImmediate(() => void this.#deliverUntilHandled(envelope));
      return;
    }
    const key = this.#single ? "" : envelope.partitionKey;
    const lane = this.#lanes.get(key);
    if (lane) {
      lane.push(envelope);
      return;
    }
    const fresh = new Denque([envelope]);
    this.#lanes.set(key, fresh);
    setImmediate(() => void this.#drain(key, fresh));
  }

  override end(): void {
    super.end();
    this.#lanes.clear();
  }

  async #drain(key: string | undefined, lane: Denque<Envelope>): Promise<void> {
    while (!this.ended && lane.length > 0) {
      await this.#deliverUntilHandled(lane.peekFront() as Envelope);
      lane.shift();
    }
    if (this.#lanes.get(key) === lane) this.#lanes.delete(key);
  }

  /** Retries with backoff until the handler succeeds, the message expires or the subscription ends. */
  async #deliverUntilHandled(envelope: Envelope): Promise<void> {
    let failures = 0;
    while (!this.ended && !isExpired(envelope, Date.now())) {
      try {
        await this.#handler(toMessage(envelope));
        return;
      } catch (error) {
        failures++;
        this.settings.logger.debug("pub/sub handler failed; the message will be redelivered", {
          topic: envelope.topic,
          attempt: failures,
          error: errorMessage(error),
        });
      }
      if (this.ended) return;
      await this.pause(this.settings.backoff(failures));
    }
  }
}

/**
 * A bulk subscriber: messages are gathered until `maxMessagesCount` are waiting or
 * `maxAwaitDurationMs` has passed since the first, then handed over as one batch. Batches are
 * delivered one at a time; entries that fail (or get no status) go back to the front of the queue
 * and come again in the next batch after a backoff.
 */
export class BulkSubscription extends Subscription {
  readonly #handler: BulkMessageHandler;
  readonly #topic: string;
  readonly #metadata: Metadata;
  readonly #maxCount: number;
  readonly #maxAwaitMs: number;
  readonly #queue = new Denque<Envelope>();
  #wake: (() => void) | undefined;

  constructor(
    settings: SubscriptionSettings,
    handler: BulkMessageHandler,
    batch: {
      topic: string;
      metadata: Metadata;
      maxMessagesCount: number;
      maxAwaitDurationMs: number;
    },
  ) {
    super(settings);
    this.#handler = handler;
    this.#topic = batch.topic;
    this.#metadata = batch.metadata;
    this.#maxCount = batch.maxMessagesCount;
    this.#maxAwaitMs = batch.maxAwaitDurationMs;
    setImmediate(() => void this.#run());
  }

  enqueue(envelope: Envelope): void {
    if (this.ended) return;
    this.#queue.push(envelope);
    this.#wake?.();
  }

  override end(): void {
    super.end();
    this.#queue.clear();
    this.#wake?.();
  }

  /** Resolves on the next enqueue, on end, or after `ms`. */
  #nextEvent(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(wake, ms);
      function wake(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.ended) {
      if (this.#queue.length === 0) {
        await this.#nextEvent();
        continue;
      }
      const deadline = Date.now() + this.#maxAwaitMs;
      while (!this.ended && this.#queue.length < this.#maxCount && Date.now() < deadline) {
        await this.#nextEvent(deadline - Date.now());
      }
      if (this.ended) return;
      const batch = this.#take();
      if (batch.length === 0) continue;
      const retry = await this.#deliver(batch);
      if (this.ended) return;
      if (retry.length === 0) {
        failures = 0;
        continue;
      }
      failures++;
      for (let i = retry.length - 1; i >= 0; i--) this.#queue.unshift(retry[i] as Envelope);
      await this.pause(this.settings.backoff(failures));
    }
  }

  /** Up to maxMessagesCount unexpired messages off the front of the queue. */
  #take(): Envelope[] {
    const now = Date.now();
    const batch: Envelope[] = [];
    while (batch.length < this.#maxCount && this.#queue.length > 0) {
      const envelope = this.#queue.shift() as Envelope;
      if (!isExpired(envelope, now)) batch.push(envelope);
    }
    return batch;
  }

  /** Returns the entries to redeliver. */
  async #deliver(batch: Envelope[]): Promise<Envelope[]> {
    const message: BulkMessage = {
      topic: this.#topic,
      metadata: { ...this.#metadata },
      entries: batch.map((e) => {
        const m = toMessage(e);
        return {
          entryId: e.id,
          event: m.data,
          metadata: m.metadata,
          ...(m.contentType !== undefined ? { contentType: m.contentType } : {}),
        };
      }),
    };
    try {
      const statuses = await this.#handler(message);
      const acked = new Set(statuses.filter((s) => !s.error).map((s) => s.entryId));
      return batch.filter((e) => !acked.has(e.id));
    } catch (error) {
      this.settings.logger.debug("pub/sub bulk handler failed; the batch will be redelivered", {
        topic: this.#topic,
        entries: batch.length,
        error: errorMessage(error),
      });
      return batch;
    }
  }
}
