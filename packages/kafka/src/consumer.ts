import {
  type BulkMessageHandler,
  ComponentError,
  errorMessage,
  type Logger,
  type Metadata,
} from "@outrig/core";
import { backoffDelay } from "@outrig/core/kit";
import type { Batch, Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import { rangeAssigner } from "./assigner.ts";
import type { KafkaConnection } from "./client.ts";
import { fromKafkaMessage } from "./headers.ts";
import type { KafkaOptions } from "./options.ts";
import { pinNewestStarts, type StartPin } from "./start-offsets.ts";

const DEFAULT_FETCH_WAIT_MS = 1000;
/** How long `start` waits for the consumer to join its group and start fetching. */
const JOIN_TIMEOUT_MS = 60_000;

/** One message to its handler (a pub/sub subscription's or a binding read's own mapping). */
export type MessageDelivery = (
  message: KafkaMessage,
  topic: string,
  partition: number,
) => Promise<void>;

export type Delivery =
  | { kind: "single"; handler: MessageDelivery }
  | { kind: "bulk"; handler: BulkMessageHandler; maxMessages: number; metadata: Metadata };

export interface ConsumerSpec {
  topics: string[];
  groupId: string;
  delivery: Delivery;
  maxWaitMs: number | undefined;
}

/**
 * The consumer settings, from the metadata both kinds share; pubsub.kafka adds the retry switch,
 * partition concurrency and entity management, which a binding read runs at their defaults.
 */
export type ConsumerSettings = Pick<
  KafkaOptions,
  | "initialOffset"
  | "sessionTimeout"
  | "heartbeatInterval"
  | "maxMessageBytes"
  | "consumeRetryInterval"
  | "consumeRetryEnabled"
  | "partitionsConsumedConcurrently"
  | "disableEntityManagement"
>;

/**
 * One kafkajs consumer (one group member) per pub/sub subscription or binding read. Messages of
 * a partition are handled strictly one after another (one chunk after another in bulk mode); a
 * failed handler is retried in-process, with heartbeats, and the offset is resolved only after
 * success. If the partition is taken away meanwhile (rebalance) or the consumer stops, the loop
 * leaves without resolving, so the committed offset still points at the failed message and its
 * next owner starts there: nothing is skipped or lost, and order per partition (so per key) holds.
 */
export class GroupConsumer {
  readonly spec: ConsumerSpec;
  readonly #connection: KafkaConnection;
  readonly #opts: ConsumerSettings;
  readonly #logger: Logger;
  /** First-seen log ends of uncommitted partitions (initialOffset=newest), across join retries. */
  readonly #starts = new Map<string, string>();
  #consumer: Consumer | undefined;
  #pin: StartPin | undefined;
  #stopped = false;

  constructor(
    connection: KafkaConnection,
    spec: ConsumerSpec,
    opts: ConsumerSettings,
    logger: Logger,
  ) {
    this.#connection = connection;
    this.spec = spec;
    this.#opts = opts;
    this.#logger = logger;
  }

  /**
   * Starts consuming and returns how to stop; when it cannot start, the consumer is stopped and
   * the error is ERR_UNAVAILABLE, `<failure>: <why>` (failure says what was asked for).
   */
  async start(failure: string): Promise<() => Promise<void>> {
    try {
      await this.#start();
    } catch (error) {
      await this.stop();
      throw new ComponentError("ERR_UNAVAILABLE", `${failure}: ${errorMessage(error)}`, {
        component: this.#connection.component,
        cause: error,
      });
    }
    return () => this.stop();
  }

  /**
   * Creates missing topics (see KafkaConnection#ensureTopic), then joins the group, retrying what
   * a broker that just started (or a loaded one) answers for a while: the coordinator is loading,
   * moved, or not there yet.
   */
  async #start(): Promise<void> {
    await Promise.all(this.spec.topics.map((topic) => this.#connection.ensureTopic(topic)));
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    for (;;) {
      try {
        await this.#join();
        return;
      } catch (error) {
        const consumer = this.#consumer;
        this.#consumer = undefined;
        this.#pin?.stop();
        await consumer?.disconnect().catch(() => {});
        if (this.#stopped || Date.now() > deadline || !isRetriable(error)) throw error;
        this.#logger.debug("kafka consumer join retried", { error: errorMessage(error) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async #join(): Promise<void> {
    const opts = this.#opts;
    // A client of its own per consumer: kafkajs keeps a group's committed offsets in memory per
    // client, and every consumer of that group on the client wipes all of them when it gets an
    // assignment, so the other members' fetch loops crash reading offsets of topics gone missing.
    const consumer = this.#connection.newClient().consumer({
      groupId: this.spec.groupId,
      partitionAssigners: [rangeAssigner],
      sessionTimeout: opts.sessionTimeout,
      heartbeatInterval: opts.heartbeatInterval,
      maxBytesPerPartition: opts.maxMessageBytes,
      allowAutoTopicCreation: !opts.disableEntityManagement,
      // An idle fetch returns after this long; it also bounds how long subscribe waits for the first.
      maxWaitTimeInMs: this.spec.maxWaitMs ?? DEFAULT_FETCH_WAIT_MS,
    });
    this.#consumer = consumer;
    const pin =
      opts.initialOffset === "newest"
        ? pinNewestStarts(consumer, {
            admin: () => this.#connection.admin(),
            groupId: this.spec.groupId,
            logger: this.#logger,
            starts: this.#starts,
          })
        : undefined;
    this.#pin = pin;
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `the consumer did not join group ${this.spec.groupId} within ${JOIN_TIMEOUT_MS} ms`,
            ),
          ),
        JOIN_TIMEOUT_MS,
      );
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const stopJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        stopJoin();
        // With newest, the start of every assigned partition is committed before `ready`; with
        // oldest, offsets are looked up just before the first fetch. Either way a publish after
        // subscribe resolves lands past the start.
        if (pin) {
          void pin.ready.then(done);
          return;
        }
        const stopFetch = consumer.on(consumer.events.FETCH, () => {
          stopFetch();
          done();
        });
      });
      const stopCrash = consumer.on(consumer.events.CRASH, (event) => {
        stopCrash();
        clearTimeout(timer);
        reject(event.payload.error);
      });
    });
    joined.catch(() => {});
    await consumer.connect();
    await consumer.subscribe({
      topics: this.spec.topics,
      fromBeginning: opts.initialOffset === "oldest",
    });
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    await joined;
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const size = this.spec.delivery.kind === "bulk" ? this.spec.delivery.maxMessages : 1;
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!this.#live(payload)) return;
      const chunk = batch.messages.slice(i, i + size);
      const done = await this.#deliver(payload, chunk);
      if (!done) return;
      payload.resolveOffset((chunk[chunk.length - 1] as KafkaMessage).offset);
      await payload.heartbeat();
      await payload.commitOffsetsIfNecessary();
    }
  }

  #live(payload: EachBatchPayload): boolean {
    return !this.#stopped && payload.isRunning() && !payload.isStale();
  }

  /**
   * Hands a chunk to the handler until every message in it succeeded. Returns false when the
   * subscription stopped or lost the partition first; the chunk then stays unresolved.
   */
  async #deliver(payload: EachBatchPayload, chunk: KafkaMessage[]): Promise<boolean> {
    const { batch } = payload;
    let pending = chunk;
    for (let attempt = 0; ; attempt++) {
      if (!this.#live(payload)) return false;
      pending = await this.#attempt(batch, pending);
      if (pending.length === 0) return true;
      if (!this.#opts.consumeRetryEnabled) {
        this.#logger.error("kafka handler failed; consumeRetryEnabled=false skips the message(s)", {
          topic: batch.topic,
          partition: batch.partition,
          offsets: pending.map((m) => m.offset),
        });
        return true;
      }
      await sleepWithHeartbeats(
        backoffDelay({ initialMs: this.#opts.consumeRetryInterval }, attempt + 1),
        payload,
      );
      if (attempt % 50 === 49) {
        this.#logger.warn("kafka handler keeps failing; the partition waits for it", {
          topic: batch.topic,
          partition: batch.partition,
          offset: pending[0]?.offset,
          attempts: attempt + 1,
        });
      }
    }
  }

  /** Runs the handler once over `messages`; returns those that failed. */
  async #attempt(batch: Batch, messages: KafkaMessage[]): Promise<KafkaMessage[]> {
    const delivery = this.spec.delivery;
    if (delivery.kind === "single") {
      const message = messages[0] as KafkaMessage;
      try {
        await delivery.handler(message, batch.topic, batch.partition);
        return [];
      } catch (error) {
        this.#logger.debug("kafka handler failed", {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          error: errorMessage(error),
        });
        return messages;
      }
    }
    const byId = new Map(messages.map((m) => [`${batch.partition}-${m.offset}`, m]));
    try {
      const statuses = await delivery.handler({
        topic: batch.topic,
        metadata: { ...delivery.metadata },
        entries: [...byId].map(([entryId, m]) => {
          const { data, metadata, contentType } = fromKafkaMessage(m, batch.partition);
          return { entryId, event: data, metadata, ...(contentType ? { contentType } : {}) };
        }),
      });
      const ok = new Set(statuses.filter((s) => !s.error).map((s) => s.entryId));
      return [...byId].filter(([id]) => !ok.has(id)).map(([, m]) => m);
    } catch (error) {
      this.#logger.debug("kafka bulk handler failed", {
        topic: batch.topic,
        error: errorMessage(error),
      });
      return messages;
    }
  }

  /** Leaves the group; resolved offsets are committed, unresolved messages go to the next owner. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#pin?.stop();
    await consumer?.disconnect().catch((error: unknown) => {
      this.#logger.warn("kafka consumer disconnect failed", { error: errorMessage(error) });
    });
  }
}

/** Waits between retries while keeping the group membership alive. */
async function sleepWithHeartbeats(ms: number, payload: EachBatchPayload): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && payload.isRunning() && !payload.isStale()) {
    await new Promise((r) => setTimeout(r, Math.min(500, end - Date.now())));
    await payload.heartbeat();
  }
}

/** kafkajs marks transient protocol errors retriable; coordinator moves are the usual ones here. */
function isRetriable(error: unknown): boolean {
  if (
    typeof error === "object" &&
    error !== null &&
    (error as { retriable?: unknown }).retriable === true
  ) {
    return true;
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause && cause !== error && isRetriable(cause)) return true;
  return /coordinator|rebalanc|not the leader|does not host/i.test(errorMessage(error));
}
