import { randomUUID } from "node:crypto";
import { errorMessage, type Logger } from "@outrig/core";
import type { Redis } from "ioredis";
import { toComponentError } from "./connection.ts";
import { parseEntry, readGroupEntries, type StreamEntry } from "./stream-entry.ts";

const COMPONENT = "pubsub.redis";
/** How long one XREADGROUP waits for new entries; stopping does not wait for it (it disconnects). */
const BLOCK_MS = 5000;

export interface StreamSubscriptionSettings {
  topic: string;
  /** The consumer group: the app's consumer ID. */
  group: string;
  processingTimeoutMs: number;
  redeliverIntervalMs: number;
  /** Entries fetched per read. */
  queueDepth: number;
  /** Handler calls in flight at once (single-message mode). */
  concurrency: number;
  readTimeoutMs: number;
  logger: Logger;
}

/**
 * How a subscription hands entries over: one by one (`single`, up to `concurrency` at once) or in
 * batches (`batch`, one batch at a time). Returns the ids of the entries to acknowledge.
 */
export type Delivery =
  | { mode: "single"; handle: (entry: StreamEntry) => Promise<void> }
  | {
      mode: "batch";
      maxCount: number;
      maxAwaitMs: number;
      handle: (entries: StreamEntry[]) => Promise<Set<string>>;
    };

/**
 * One subscription of a consumer group to one stream:
 * - a dedicated connection blocks in XREADGROUP for new entries (a blocking read would stall
 *   every other command on a shared connection);
 * - a handler that resolves acknowledges its entry (XACK); one that throws leaves it pending;
 * - every `redeliverInterval`, XAUTOCLAIM takes over entries pending longer than
 *   `processingTimeout` (this subscription's failures, or a crashed consumer's) and delivers
 *   them again;
 * - entries whose `expiration` has passed are acknowledged without delivery (message TTL);
 * - after the signal aborts, no handler is called again; entries fetched but not handled stay
 *   pending and are reclaimed by the group later.
 */
export class StreamSubscription {
  readonly consumer: string;
  readonly #client: Redis;
  readonly #settings: StreamSubscriptionSettings;
  readonly #delivery: Delivery;
  readonly #signal: AbortSignal;
  #reader: Redis | undefined;
  #reclaimTimer: NodeJS.Timeout | undefined;
  #reclaiming = false;
  #stopped = false;
  /** Entries fetched and not finished: a reclaim must not hand them out a second time. */
  readonly #inFlight = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #slots: number;
  readonly #slotWaiters: (() => void)[] = [];
  #readLoop: Promise<void> | undefined;

  constructor(
    client: Redis,
    settings: StreamSubscriptionSettings,
    delivery: Delivery,
    signal: AbortSignal,
  ) {
    this.#client = client;
    this.#settings = settings;
    this.#delivery = delivery;
    this.#signal = signal;
    this.#slots = Math.max(1, settings.concurrency);
    this.consumer = `${settings.group}-${randomUUID().slice(0, 8)}`;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Creates the group if needed and opens the reading connection; resolves once reading. */
  async start(): Promise<void> {
    await this.#ensureGroup();
    try {
      // Registered now rather than at the first read, so the group shows the subscription at once.
      await this.#client.xgroup(
        "CREATECONSUMER",
        this.#settings.topic,
        this.#settings.group,
        this.consumer,
      );
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    const reader = this.#client.duplicate({
      lazyConnect: true,
      commandTimeout: BLOCK_MS + this.#settings.readTimeoutMs,
      connectionName: `outrig:${COMPONENT}:${this.consumer}`,
    });
    reader.on("error", () => {});
    try {
      await reader.connect();
    } catch (error) {
      reader.disconnect();
      throw toComponentError(error, COMPONENT);
    }
    this.#reader = reader;
    this.#readLoop = this.#read();
    const { processingTimeoutMs, redeliverIntervalMs } = this.#settings;
    if (processingTimeoutMs > 0 && redeliverIntervalMs > 0) {
      this.#reclaimTimer = setInterval(() => void this.#reclaim(), redeliverIntervalMs);
      this.#reclaimTimer.unref();
    }
  }

  /** Ends the subscription; handlers already running finish on their own. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#reclaimTimer) clearInterval(this.#reclaimTimer);
    this.#reader?.disconnect();
    for (const wake of this.#slotWaiters.splice(0)) wake();
    await this.#readLoop?.catch(() => {});
    // A consumer without pending entries is removed so groups do not collect dead consumers;
    // one with pending entries stays until the group reclaims them.
    void Promise.allSettled([...this.#running]).then(() => this.#removeConsumerIfIdle());
  }

  async #ensureGroup(): Promise<void> {
    try {
      // From the start of the stream, as Dapr does: a new group also gets what is already there.
      await this.#client.xgroup(
        "CREATE",
        this.#settings.topic,
        this.#settings.group,
        "0",
        "MKSTREAM",
      );
    } catch (error) {
      if (errorMessage(error).startsWith("BUSYGROUP")) return;
      throw toComponentError(error, COMPONENT);
    }
  }

  async #read(): Promise<void> {
    let failures = 0;
    while (!this.#stopped && !this.#signal.aborted) {
      try {
        const entries =
          this.#delivery.mode === "batch"
            ? await this.#readBatch(this.#delivery.maxCount, this.#delivery.maxAwaitMs)
            : await this.#readOnce(this.#settings.queueDepth, BLOCK_MS);
        failures = 0;
        await this.#dispatch(entries);
      } catch (error) {
        if (this.#stopped || this.#signal.aborted) return;
        await this.#recover(error, ++failures);
      }
    }
  }

  async #readOnce(count: number, blockMs: number): Promise<StreamEntry[]> {
    const reader = this.#reader as Redis;
    const reply = await reader.callBuffer(
      "XREADGROUP",
      "GROUP",
      this.#settings.group,
      this.consumer,
      "COUNT",
      String(count),
      "BLOCK",
      String(Math.max(1, Math.floor(blockMs))),
      "STREAMS",
      this.#settings.topic,
      ">",
    );
    return readGroupEntries(reply)
      .map(parseEntry)
      .filter((e): e is StreamEntry => e !== undefined);
  }

  /** Gathers up to `maxCount` entries, waiting at most `maxAwaitMs` after the first arrived. */
  async #readBatch(maxCount: number, maxAwaitMs: number): Promise<StreamEntry[]> {
    const batch = await this.#readOnce(maxCount, BLOCK_MS);
    const deadline = Date.now() + maxAwaitMs;
    while (batch.length > 0 && batch.length < maxCount && !this.#stopped && !this.#signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      batch.push(...(await this.#readOnce(maxCount - batch.length, remaining)));
    }
    return batch;
  }

  async #recover(error: unknown, failures: number): Promise<void> {
    const message = errorMessage(error);
    if (message.startsWith("NOGROUP")) {
      // The stream or group is gone (deleted, or a server restarted without persistence).
      await this.#ensureGroup().catch(() => {});
    } else {
      this.#settings.logger.warn("redis stream read failed; retrying", {
        topic: this.#settings.topic,
        error: message,
      });
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(100 * 2 ** Math.min(failures, 5), 2000)),
    );
  }

  /** Claims entries idle longer than processingTimeout and delivers them again. */
  async #reclaim(): Promise<void> {
    if (this.#reclaiming || this.#stopped || this.#signal.aborted) return;
    this.#reclaiming = true;
    try {
      let start = "0-0";
      do {
        const reply = (await this.#client.callBuffer(
          "XAUTOCLAIM",
          this.#settings.topic,
          this.#settings.group,
          this.consumer,
          String(this.#settings.processingTimeoutMs),
          start,
          "COUNT",
          String(this.#settings.queueDepth),
        )) as [Buffer, unknown[]];
        start = reply[0].toString("utf8");
        const entries = (reply[1] ?? [])
          .map(parseEntry)
          .filter((e): e is StreamEntry => e !== undefined && !this.#inFlight.has(e.id));
        if (this.#delivery.mode === "batch") {
          for (let i = 0; i < entries.length; i += this.#delivery.maxCount) {
            await this.#dispatch(entries.slice(i, i + this.#delivery.maxCount));
          }
        } else {
          await this.#dispatch(entries);
        }
      } while (start !== "0-0" && !this.#stopped && !this.#signal.aborted);
    } catch (error) {
      const message = errorMessage(error);
      if (message.startsWith("NOGROUP")) await this.#ensureGroup().catch(() => {});
      else if (!this.#stopped) {
        this.#settings.logger.warn("redis stream reclaim failed; retrying at the next interval", {
          topic: this.#settings.topic,
          error: message,
        });
      }
    } finally {
      this.#reclaiming = false;
    }
  }

  async #dispatch(entries: StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = Date.now();
    const live: StreamEntry[] = [];
    const expired: string[] = [];
    for (const entry of entries) {
      if (entry.fields.expiration !== undefined && entry.fields.expiration <= now)
        expired.push(entry.id);
      else live.push(entry);
    }
    if (expired.length > 0) await this.#ack(expired);
    if (this.#delivery.mode === "batch") {
      if (live.length === 0 || this.#stopped || this.#signal.aborted) return;
      for (const e of live) this.#inFlight.add(e.id);
      const run = this.#runBatch(live, this.#delivery.handle);
      this.#track(run);
      await run;
      return;
    }
    const handle = this.#delivery.handle;
    for (const entry of live) {
      await this.#acquire();
      if (this.#stopped || this.#signal.aborted) {
        this.#release();
        return;
      }
      this.#inFlight.add(entry.id);
      this.#track(this.#runOne(entry, handle));
    }
  }

  async #runOne(entry: StreamEntry, handle: (entry: StreamEntry) => Promise<void>): Promise<void> {
    try {
      await handle(entry);
      await this.#ack([entry.id]);
    } catch {
      // Not acknowledged: the entry stays pending and is reclaimed after processingTimeout.
    } finally {
      this.#inFlight.delete(entry.id);
      this.#release();
    }
  }

  async #runBatch(
    entries: StreamEntry[],
    handle: (entries: StreamEntry[]) => Promise<Set<string>>,
  ): Promise<void> {
    try {
      const succeeded = await handle(entries);
      await this.#ack(entries.filter((e) => succeeded.has(e.id)).map((e) => e.id));
    } catch {
      // The whole batch stays pending.
    } finally {
      for (const e of entries) this.#inFlight.delete(e.id);
    }
  }

  async #ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.#client.xack(this.#settings.topic, this.#settings.group, ...ids);
    } catch (error) {
      // An unacknowledged entry is delivered again later: at-least-once, never lost.
      this.#settings.logger.warn("redis stream ack failed; the messages will be redelivered", {
        topic: this.#settings.topic,
        error: errorMessage(error),
      });
    }
  }

  #track(run: Promise<void>): void {
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
  }

  async #acquire(): Promise<void> {
    while (this.#slots === 0 && !this.#stopped) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#slots--;
  }

  #release(): void {
    this.#slots++;
    this.#slotWaiters.shift()?.();
  }

  async #removeConsumerIfIdle(): Promise<void> {
    try {
      const summary = (await this.#client.xpending(
        this.#settings.topic,
        this.#settings.group,
        "-",
        "+",
        1,
        this.consumer,
      )) as unknown[];
      if (summary.length === 0) {
        await this.#client.xgroup(
          "DELCONSUMER",
          this.#settings.topic,
          this.#settings.group,
          this.consumer,
        );
      }
    } catch {
      // Best effort: a leftover idle consumer costs a few bytes in the group.
    }
  }
}
