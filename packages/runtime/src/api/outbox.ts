import { randomUUID } from "node:crypto";
import {
  decodeJson,
  encodeValue,
  getMetadata,
  isTruthy,
  type Logger,
  type Metadata,
  type StateStore,
  type TransactionOperation,
} from "@outrig/core";
import { buildEnvelope, CLOUDEVENT_CONTENT_TYPE } from "../messaging/cloudevent.ts";
import type { Runtime } from "../runtime.ts";
import { apiError } from "./errors.ts";

/** Dapr's prefix for the outbox's own state keys (`outbox-<uuid>`). */
export const OUTBOX_KEY_PREFIX = "outbox-";
/** The operation metadata that makes an upsert the message for its key instead of state. */
export const OUTBOX_PROJECTION = "outbox.projection";
/**
 * Test hook: with this environment variable set to `after-commit`, the sidecar kills itself
 * (SIGKILL) right after an outbox transaction committed and before its messages are published,
 * so tests can prove the messages survive.
 */
export const OUTBOX_CRASH_ENV = "OUTRIG_TEST_OUTBOX_CRASH";
/** How often the relay looks for messages a crash or a failed publish left behind. */
export const DEFAULT_OUTBOX_SWEEP_MS = 5000;

/** A state store's outbox settings, from its component metadata (Dapr's names). */
export interface OutboxSettings {
  store: string;
  publishPubsub: string;
  publishTopic: string;
}

/** One message waiting in the state store: written in the transaction, deleted once published. */
interface OutboxRecord {
  pubsub: string;
  topic: string;
  /** The CloudEvent, built at commit, so every republish sends the same event. */
  event: Record<string, unknown>;
}

/** The outbox settings of the state stores that have them; problems are logged by name. */
export function outboxSettings(runtime: Runtime, logger: Logger): Map<string, OutboxSettings> {
  const out = new Map<string, OutboxSettings>();
  for (const c of runtime.components) {
    if (c.kind !== "state") continue;
    const publishPubsub = getMetadata(c.metadata, "outboxPublishPubsub");
    const publishTopic = getMetadata(c.metadata, "outboxPublishTopic");
    const fields = { store: c.name };
    if (!publishPubsub && !publishTopic) continue;
    if (!publishPubsub || !publishTopic) {
      logger.warn(
        "outbox not enabled: outboxPublishPubsub and outboxPublishTopic are both required",
        { ...fields, missing: publishPubsub ? "outboxPublishTopic" : "outboxPublishPubsub" },
      );
      continue;
    }
    if (getMetadata(c.metadata, "outboxPubsub") !== undefined) {
      logger.warn(
        "outboxPubsub is not used: outrig keeps outbox messages in the state transaction itself, not on an internal topic",
        fields,
      );
    }
    if (getMetadata(c.metadata, "outboxDiscardWhenMissingState") !== undefined) {
      logger.warn(
        "outboxDiscardWhenMissingState has no effect: a message is committed with its state, so it never lacks it",
        fields,
      );
    }
    if (!c.capabilities.includes("TRANSACTIONAL")) {
      logger.error("outbox not enabled: the state store is not transactional", fields);
      continue;
    }
    if (!c.capabilities.includes("QUERY_API")) {
      logger.warn(
        "outbox messages left by a crash are not republished: the state store cannot list keys (QUERY_API)",
        fields,
      );
    }
    out.set(c.name, { store: c.name, publishPubsub, publishTopic });
  }
  return out;
}

function message(
  appId: string,
  settings: OutboxSettings,
  id: string,
  value: unknown,
  metadata: Metadata,
): OutboxRecord {
  const bytes = value instanceof Uint8Array;
  const event = buildEnvelope({
    topic: settings.publishTopic,
    pubsubName: settings.publishPubsub,
    source: appId,
    data: bytes ? value : encodeValue(value),
    contentType: bytes ? getMetadata(metadata, "contentType") : "application/json",
    // The message's id is its outbox key: stable across republishing, so subscribers can dedupe.
    overrides: { id },
  });
  return { pubsub: settings.publishPubsub, topic: settings.publishTopic, event };
}

/**
 * Dapr's transactional outbox, kept durable in the state store: every upsert of a transaction on
 * an outbox store adds an `outbox-<uuid>` record (the message's CloudEvent) to the same
 * transaction, so state and message commit together. After the commit the messages are
 * published and their records deleted; a sweep republishes whatever a crash or a failed publish
 * left (at least once), also right after a restart.
 */
export class Outbox {
  readonly #runtime: Runtime;
  readonly #logger: Logger;
  #settings: Map<string, OutboxSettings>;
  readonly #track: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #publishing = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(
    runtime: Runtime,
    logger: Logger,
    track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn(),
  ) {
    this.#runtime = runtime;
    this.#logger = logger;
    this.#settings = outboxSettings(runtime, logger);
    this.#track = track;
  }

  enabled(store: string): boolean {
    return this.#settings.has(store);
  }

  /**
   * The transaction's operations with the outbox records added and the projections taken out
   * (a projection's value is its key's message instead of the upserted value; a projection
   * without an upsert of its key fails the transaction, as in Dapr). `keys` are the records.
   */
  prepare(
    store: string,
    operations: TransactionOperation[],
  ): { operations: TransactionOperation[]; keys: string[] } {
    const settings = this.#settings.get(store);
    if (!settings) return { operations, keys: [] };
    if (!this.#runtime.has("pubsub", settings.publishPubsub)) {
      throw apiError("PUBSUB_NOT_FOUND", { pubsub: settings.publishPubsub });
    }
    const projection = (op: TransactionOperation) =>
      op.operation === "upsert" &&
      isTruthy(getMetadata(op.request.metadata ?? {}, OUTBOX_PROJECTION));
    const projected = new Map<string, { value: unknown; metadata: Metadata }>();
    for (const op of operations) {
      if (op.operation === "upsert" && projection(op)) {
        projected.set(op.request.key, {
          value: op.request.value,
          metadata: op.request.metadata ?? {},
        });
      }
    }
    const state = operations.filter((op) => !projection(op));
    for (const key of projected.keys()) {
      if (!state.some((op) => op.operation === "upsert" && op.request.key === key)) {
        throw apiError("STATE_OUTBOX_PROJECTION", { key });
      }
    }
    const records: TransactionOperation[] = [];
    const keys: string[] = [];
    for (const op of state) {
      if (op.operation !== "upsert") continue;
      const key = `${OUTBOX_KEY_PREFIX}${randomUUID()}`;
      const source = projected.get(op.request.key) ?? {
        value: op.request.value,
        metadata: op.request.metadata ?? {},
      };
      const record = message(this.#runtime.appId, settings, key, source.value, source.metadata);
      records.push({ operation: "upsert", request: { key, value: record } });
      keys.push(key);
    }
    return { operations: [...state, ...records], keys };
  }

  /** After the commit: publishes the transaction's messages; a failure is left to the sweep. */
  async committed(store: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    if (process.env[OUTBOX_CRASH_ENV] === "after-commit") process.kill(process.pid, "SIGKILL");
    const view = this.#runtime.stateStore(store);
    for (const key of keys) {
      await this.#relay(view, key).catch((error: unknown) =>
        this.#logger.warn("outbox message not published yet; it is retried", {
          store,
          key,
          error: (error as Error).message,
        }),
      );
    }
  }

  /** Publishes the record at `key` (unless another call is at it) and deletes it. */
  async #relay(view: StateStore, key: string, known?: OutboxRecord): Promise<void> {
    if (this.#publishing.has(key)) return;
    this.#publishing.add(key);
    try {
      await this.#track(async () => {
        let record = known;
        if (!record) {
          const got = await view.get({ key });
          if (got.data === null || got.data === undefined) return;
          record = decodeJson(got.data) as OutboxRecord;
        }
        await this.#runtime.pubsub(record.pubsub).publish({
          topic: record.topic,
          data: encodeValue(record.event),
          metadata: {},
          contentType: CLOUDEVENT_CONTENT_TYPE,
        });
        await view.delete({ key });
      });
    } finally {
      this.#publishing.delete(key);
    }
  }

  /** Republishes every record left in the outbox stores. */
  sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      for (const settings of this.#settings.values()) {
        const view = this.#runtime.stateStore(settings.store);
        if (!view.capabilities.has("QUERY_API")) continue;
        try {
          let token: string | undefined;
          do {
            const page = await view.query({
              query: { page: { limit: 100, ...(token ? { token } : {}) } },
              keyPrefix: OUTBOX_KEY_PREFIX,
            });
            for (const r of page.results) {
              if (!r.key.startsWith(OUTBOX_KEY_PREFIX)) continue;
              await this.#relay(view, r.key, decodeJson(r.data) as OutboxRecord).catch(
                (error: unknown) =>
                  this.#logger.warn("outbox message not published yet; it is retried", {
                    store: settings.store,
                    key: r.key,
                    error: (error as Error).message,
                  }),
              );
            }
            token = page.token;
          } while (token);
        } catch (error) {
          this.#logger.warn("outbox sweep failed; it runs again", {
            store: settings.store,
            error: (error as Error).message,
          });
        }
      }
    })().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Sweeps now and every `intervalMs` until stopped. */
  start(intervalMs = DEFAULT_OUTBOX_SWEEP_MS): void {
    if (this.#settings.size === 0) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads the state stores' outbox settings again, after hot reload changed the components. */
  refresh(): void {
    this.#settings = outboxSettings(this.#runtime, this.#logger);
    if (!this.#timer) this.start();
  }
}
