import type { ScheduleSpec } from "./spec.ts";

/** One schedule as the store keeps it. */
export interface StoredJob {
  /** The whole key, e.g. `app||default||orders||nightly` (namespace and owner in it, as Dapr's). */
  key: string;
  spec: ScheduleSpec;
  /** Opaque to the scheduler: handed to the trigger as it was given. */
  payload: Uint8Array;
  /** Creation time (ms): relative due times and ttls count from it. */
  createdAt: number;
  /** When the next tick is due (ms). A tick never fires before it. */
  dueAt: number;
  /** Ticks done so far (successful or given up). */
  count: number;
  /** Failed attempts of the current tick. */
  attempts: number;
  /** Changes on every write of the job: a trigger of an older write never settles the newer one. */
  generation: string;
}

/** What becomes of a claimed job once its trigger is over. */
export type Settlement =
  /** The next tick: a new due time, count and attempts. */
  | { kind: "next"; dueAt: number; count: number; attempts: number }
  /** No tick is left (one-shot done, repeats reached, expired). */
  | { kind: "done" }
  /** The trigger did not run to an answer (the sidecar is stopping): let anyone claim it again. */
  | { kind: "release" };

export interface SettleItem {
  key: string;
  generation: string;
  settlement: Settlement;
}

/**
 * Where schedules live. Ownership of a due tick is a lease on its row, taken atomically by
 * `claim` with the database's own locking (one writer at a time in SQLite, `FOR UPDATE SKIP
 * LOCKED` in PostgreSQL), so of several sidecars sharing a store exactly one fires each tick; a
 * lease that runs out (its sidecar died) makes the tick claimable again: at least once.
 */
export interface SchedulerStore {
  /** Writes a job; `false` (nothing written) when the key exists and `overwrite` is not set. */
  put(job: StoredJob, overwrite: boolean): Promise<boolean>;
  get(key: string): Promise<StoredJob | undefined>;
  /** `true` when a job was deleted. */
  delete(key: string): Promise<boolean>;
  /** Deletes every job whose key starts with `prefix`; returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Jobs whose key starts with `prefix`, by key; at most `limit`. */
  list(prefix: string, limit: number): Promise<StoredJob[]>;
  /**
   * Leases up to `limit` jobs under `prefixes` that are due at `now` and not leased by anyone
   * (or whose lease ran out) to `owner` until `leaseUntil`, atomically; returns them.
   */
  claim(
    prefixes: readonly string[],
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<StoredJob[]>;
  /**
   * Ends `owner`'s leases: each job is updated or deleted only while it still has the same
   * generation and is still leased by `owner` (a job rewritten or deleted meanwhile is left be).
   */
  settle(owner: string, items: readonly SettleItem[]): Promise<void>;
  /** Extends `owner`'s leases on `keys` to `leaseUntil`; returns the keys `owner` still leases. */
  renew(owner: string, keys: readonly string[], leaseUntil: number): Promise<string[]>;
  /**
   * Ends every lease `owner` holds, so its ticks are claimable at once: a restarted sidecar that
   * keeps its owner id takes back what its previous run held. Returns how many were released.
   */
  release(owner: string): Promise<number>;
  /** The earliest time any job under `prefixes` becomes claimable (due and unleased). */
  nextClaimable(prefixes: readonly string[]): Promise<number | undefined>;
  close(): Promise<void>;
}

/** The exclusive upper bound of the keys starting with `prefix`. */
export function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
