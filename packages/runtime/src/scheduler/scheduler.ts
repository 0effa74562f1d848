import { randomUUID } from "node:crypto";
import { errorMessage, type Logger, silentLogger } from "@outrig/core";
import { type ScheduleSpec, timing } from "./spec.ts";
import type { SchedulerStore, SettleItem, Settlement, StoredJob } from "./store.ts";

/** A job as the scheduler reports it. */
export interface ScheduledJob {
  key: string;
  spec: ScheduleSpec;
  payload: Uint8Array;
  /** When the next tick is due (ms). */
  dueAt: number;
  /** Ticks done so far. */
  count: number;
}

/** A due tick, handed to its trigger. */
export interface Trigger extends ScheduledJob {
  /** Which failed attempt of this tick this is (0 for the first try). */
  attempt: number;
}

/**
 * Fires one tick. Resolves `true` when the target took it; `false` or a rejection is a failed
 * tick, retried by the job's failure policy. `signal` aborts when the scheduler closes.
 */
export type TriggerHandler = (trigger: Trigger, signal: AbortSignal) => Promise<boolean>;

/** `schedule` without `overwrite` found a job of that key. */
export class JobExistsError extends Error {
  constructor(key: string) {
    super(`job ${key} already exists`);
    this.name = "JobExistsError";
  }
}

export interface SchedulerOptions {
  store: SchedulerStore;
  logger?: Logger;
  /** How long a claimed tick is ours; past it (we died) another sidecar may fire it. Default 30 s. */
  leaseMs?: number;
  /** How often the store is read for ticks written by other sidecars. Default 1 s. */
  pollMs?: number;
  /** Ticks claimed per store round trip. Default 500. */
  batchSize?: number;
  /** Triggers in flight at once. Default 1000. */
  maxInFlight?: number;
  /**
   * This scheduler's lease owner id, kept across restarts of one sidecar: on start it releases
   * the leases its previous run held (that run is dead), so their ticks fire at once instead of
   * after the lease. Only for an id no other live process uses. Default: a new id each run.
   */
  owner?: string;
}

/**
 * The one durable scheduler of the sidecar: Jobs API jobs now, actor reminders and workflow
 * timers later, each under its own key prefix with its own trigger (`handle`). Every tick fires
 * at least once and never before it is due; ticks are owned through the store's leases, so
 * sidecars sharing a store fire each tick on exactly one of them while they live.
 */
export class Scheduler {
  readonly owner: string;
  /** Releases a previous run's leases before the first claim (with a stable `owner`). */
  #adopted: Promise<void> | undefined;
  readonly #store: SchedulerStore;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #maxInFlight: number;
  readonly #handlers = new Map<string, { handler: TriggerHandler; held: boolean }>();
  readonly #inFlight = new Set<Promise<void>>();
  /** The claimed ticks whose triggers run, by key: their leases are renewed while they do. */
  readonly #leases = new Map<string, AbortController>();
  #held = 0;
  #renewer: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();
  #settles: SettleItem[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #queued = false;
  #again = false;
  #closed = false;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#logger = options.logger ?? silentLogger;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 1000;
    this.#batchSize = options.batchSize ?? 500;
    this.#maxInFlight = options.maxInFlight ?? 1000;
    this.owner = options.owner ?? randomUUID();
    if (options.owner !== undefined) {
      this.#adopted = this.#store.release(options.owner).then(
        (n) => {
          if (n > 0) this.#logger.info("scheduler: took back the previous run's leases", { n });
        },
        (error: unknown) => {
          // Not fatal: those ticks are claimed again when their leases run out.
          this.#logger.warn("scheduler: releasing the previous run's leases failed", {
            error: errorMessage(error),
          });
        },
      );
    }
  }

  /** How long a trigger may take before its lease could run out. */
  get triggerTimeoutMs(): number {
    return Math.floor(this.#leaseMs / 2);
  }

  /**
   * Stores a schedule. Throws ScheduleSpecError for a spec that cannot be read, JobExistsError
   * when the key exists and `overwrite` is not set. An overwrite starts the job afresh.
   */
  async schedule(
    key: string,
    spec: ScheduleSpec,
    payload: Uint8Array,
    options: { overwrite?: boolean } = {},
  ): Promise<void> {
    const now = Date.now();
    const t = timing(spec, now);
    const written = await this.#store.put(
      {
        key,
        spec,
        payload,
        createdAt: now,
        dueAt: t.first,
        count: 0,
        attempts: 0,
        generation: randomUUID(),
      },
      options.overwrite === true,
    );
    if (!written) throw new JobExistsError(key);
    this.#wake();
  }

  async get(key: string): Promise<ScheduledJob | undefined> {
    const job = await this.#store.get(key);
    return job ? view(job) : undefined;
  }

  delete(key: string): Promise<boolean> {
    return this.#store.delete(key);
  }

  deleteByPrefix(prefix: string): Promise<number> {
    return this.#store.deleteByPrefix(prefix);
  }

  async list(prefix: string, limit = 10_000): Promise<ScheduledJob[]> {
    return (await this.#store.list(prefix, limit)).map(view);
  }

  /**
   * Fires the jobs under `prefix` through `handler` from now on; returns a function to stop.
   * `held`: a trigger may run for as long as it likes (a lease the handler holds, e.g. a workflow
   * instance's ownership); such triggers do not count against `maxInFlight`. Every running
   * trigger's lease is renewed while it runs, and its signal aborts if another sidecar took it.
   */
  handle(prefix: string, handler: TriggerHandler, options: { held?: boolean } = {}): () => void {
    this.#handlers.set(prefix, { handler, held: options.held === true });
    if (!this.#renewer) {
      // A third of the lease: two renewals may fail (a store hiccup) before the lease is lost.
      this.#renewer = setInterval(() => void this.#renew(), Math.max(50, this.#leaseMs / 3));
      this.#renewer.unref();
    }
    this.#wake();
    return () => {
      this.#handlers.delete(prefix);
    };
  }

  /** Stops firing; triggers in flight are aborted and their ticks released for anyone to fire. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#renewer);
    this.#abort.abort();
    await Promise.allSettled([...this.#inFlight]);
    await this.#flush();
    await this.#store.close();
  }

  #wake(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running) {
      this.#again = true;
      return;
    }
    // Every finished trigger wakes the loop: one pass for all the wakes of a tick, not one each
    // (each pass is a claim and a nextClaimable read of the store).
    if (this.#queued) return;
    this.#queued = true;
    setImmediate(() => {
      this.#queued = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#running || this.#closed) return;
    this.#running = true;
    try {
      do {
        this.#again = false;
        await this.#claimDue();
      } while (this.#again && !this.#closed);
      await this.#arm();
    } catch (error) {
      this.#logger.error("scheduler: reading the store failed; retrying", {
        error: errorMessage(error),
      });
      // The retry timer stands for any wake that came meanwhile: no tight loop on a failing store.
      this.#again = false;
      if (!this.#closed) this.#timer = setTimeout(() => this.#wake(), this.#pollMs).unref();
    } finally {
      this.#running = false;
      // A wake that came while #arm was reading the store found us running and armed nothing.
      if (this.#again) this.#wake();
    }
  }

  async #claimDue(): Promise<void> {
    const prefixes = [...this.#handlers.keys()];
    if (prefixes.length === 0) return;
    if (this.#adopted) {
      await this.#adopted;
      this.#adopted = undefined;
    }
    while (!this.#closed) {
      const room = Math.min(
        this.#batchSize,
        this.#maxInFlight - (this.#inFlight.size - this.#held),
      );
      if (room <= 0) return; // a finishing trigger wakes us
      const now = Date.now();
      const claimed = await this.#store.claim(prefixes, now, this.owner, now + this.#leaseMs, room);
      for (const job of claimed) this.#fire(job);
      if (claimed.length < room) return;
    }
  }

  async #arm(): Promise<void> {
    if (this.#closed) return;
    const prefixes = [...this.#handlers.keys()];
    const at = prefixes.length === 0 ? undefined : await this.#store.nextClaimable(prefixes);
    if (this.#closed || this.#again) return;
    const delay = Math.min(
      this.#pollMs,
      Math.max(0, (at ?? Number.POSITIVE_INFINITY) - Date.now()),
    );
    clearTimeout(this.#timer);
    // A timer may run a little early; the claim compares with the clock, so nothing fires early.
    this.#timer = setTimeout(() => this.#wake(), delay).unref();
  }

  #handlerFor(key: string): { handler: TriggerHandler; held: boolean } | undefined {
    let best: string | undefined;
    for (const prefix of this.#handlers.keys()) {
      if (key.startsWith(prefix) && (best === undefined || prefix.length > best.length))
        best = prefix;
    }
    return best === undefined ? undefined : this.#handlers.get(best);
  }

  /** Extends the leases of the running triggers; aborts those another sidecar took meanwhile. */
  async #renew(): Promise<void> {
    if (this.#closed || this.#leases.size === 0) return;
    const keys = [...this.#leases.keys()];
    let kept: Set<string>;
    try {
      kept = new Set(await this.#store.renew(this.owner, keys, Date.now() + this.#leaseMs));
    } catch (error) {
      this.#logger.warn("scheduler: renewing leases failed; retrying", {
        error: errorMessage(error),
      });
      return;
    }
    for (const key of keys) {
      if (kept.has(key)) continue;
      const lost = this.#leases.get(key);
      if (!lost) continue; // settled meanwhile
      this.#logger.warn("scheduler: a running trigger's lease was lost", { key });
      lost.abort();
    }
  }

  #fire(job: StoredJob): void {
    const entry = this.#handlerFor(job.key);
    const own = new AbortController();
    if (entry?.held) this.#held++;
    this.#leases.set(job.key, own);
    const run = (async () => {
      if (!entry) {
        // Its trigger was removed (the sidecar is stopping) after the claim: not a failure.
        this.#settle(job, { kind: "release" });
        return;
      }
      let ok = false;
      try {
        ok = await entry.handler(
          { ...view(job), attempt: job.attempts },
          AbortSignal.any([this.#abort.signal, own.signal]),
        );
      } catch (error) {
        if (!this.#abort.signal.aborted) {
          this.#logger.warn("scheduler: trigger failed", {
            key: job.key,
            error: errorMessage(error),
          });
        }
      }
      this.#settle(job, this.#abort.signal.aborted && !ok ? { kind: "release" } : outcome(job, ok));
    })();
    this.#inFlight.add(run);
    void run.finally(() => {
      this.#inFlight.delete(run);
      if (this.#leases.get(job.key) === own) this.#leases.delete(job.key);
      if (entry?.held) this.#held--;
      this.#wake();
    });
  }

  #settle(job: StoredJob, settlement: Settlement): void {
    this.#settles.push({ key: job.key, generation: job.generation, settlement });
    if (!this.#flushing) {
      this.#flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
        this.#flush(),
      );
    }
  }

  async #flush(): Promise<void> {
    const batch = this.#settles;
    this.#settles = [];
    this.#flushing = undefined;
    if (batch.length === 0) return;
    try {
      await this.#store.settle(this.owner, batch);
    } catch (error) {
      // The leases run out and the ticks fire again: at least once.
      this.#logger.error("scheduler: recording fired ticks failed; they will fire again", {
        error: errorMessage(error),
        ticks: batch.length,
      });
    }
    this.#wake();
  }
}

function view(job: StoredJob): ScheduledJob {
  return {
    key: job.key,
    spec: job.spec,
    payload: job.payload,
    dueAt: job.dueAt,
    count: job.count,
  };
}

/** The job after a tick that succeeded (`ok`) or failed, per its spec and failure policy. */
function outcome(job: StoredJob, ok: boolean): Settlement {
  const now = Date.now();
  let t: ReturnType<typeof timing>;
  try {
    t = timing(job.spec, job.createdAt);
  } catch {
    return { kind: "done" }; // unreadable now (cannot happen for a job the scheduler wrote)
  }
  if (!ok && t.retry && (t.retry.maxRetries === undefined || job.attempts < t.retry.maxRetries)) {
    const dueAt = Math.max(now + t.retry.intervalMs, job.dueAt);
    if (t.expiresAt === undefined || dueAt <= t.expiresAt) {
      return { kind: "next", dueAt, count: job.count, attempts: job.attempts + 1 };
    }
  }
  const count = job.count + 1;
  const dueAt = t.next(job.dueAt, count, now);
  return dueAt === undefined ? { kind: "done" } : { kind: "next", dueAt, count, attempts: 0 };
}
