import { randomUUID } from "node:crypto";
import { errorMessage, type Logger } from "@outrig/core";
import type { MembershipSnapshot, MembershipStore, PlacementMember } from "./membership.ts";
import type { ActorPlacement, Ownership } from "./placement.ts";
import { rendezvousOwner, type Weighted, weighted } from "./rendezvous.ts";

/** Heartbeat (lease renewal and membership read) interval. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** How long a member's row counts without a renewal; past it any sidecar deletes it. */
export const DEFAULT_MEMBER_LEASE_MS = 4000;
/**
 * A member stops running turns this long (at most a quarter of the lease) before its own lease
 * could run out (counted from the
 * start of its last renewal that succeeded), so the survivors, which wait for the whole lease,
 * never start while it still might. Covers clock drift between sidecars and a late renewal.
 */
const SELF_FENCE_MARGIN_MS = 1000;
/** Snapshots kept to answer whether an activation stayed ours through every epoch since. */
const HISTORY = 16;

interface View {
  epoch: number;
  byType: Map<string, Weighted<PlacementMember>[]>;
  members: number;
  /** The oldest epoch the other members have drained for; renewed with every heartbeat. */
  othersDrained: number;
}

function othersDrained(snapshot: MembershipSnapshot, self: string): number {
  let min = Number.POSITIVE_INFINITY;
  for (const m of snapshot.members) if (m.id !== self && m.drained < min) min = m.drained;
  return min;
}

function viewOf(snapshot: MembershipSnapshot, self: string): View {
  const byType = new Map<string, Weighted<PlacementMember>[]>();
  for (const m of snapshot.members) {
    const w = weighted(m);
    for (const t of m.types) {
      const list = byType.get(t) ?? [];
      byType.set(t, list);
      list.push(w);
    }
  }
  return {
    epoch: snapshot.epoch,
    byType,
    members: snapshot.members.length,
    othersDrained: othersDrained(snapshot, self),
  };
}

export interface TablePlacementOptions {
  store: MembershipStore;
  appId: string;
  /** This sidecar's HTTP API, where others forward its actors' calls (known once it listens). */
  address: () => { host: string; port: number };
  logger: Logger;
  heartbeatMs?: number;
  leaseMs?: number;
  /** Names the store in describe(), without credentials. */
  storeName: string;
}

/**
 * Placement across sidecars through membership rows in a shared store (the scheduler's SQLite
 * file or PostgreSQL database). Each sidecar renews its row's lease every heartbeat, and the
 * same transaction deletes rows whose lease ran out and bumps the epoch on any change. The owner
 * of `type/id` is the rendezvous-hash winner among the members hosting the type in the cached
 * snapshot: `lookup` is an in-memory computation, never a store read.
 *
 * Fencing: an activation remembers the epoch it started under, and `stillOwner` answers true
 * only while every snapshot seen since (with no epoch skipped) kept the actor here and this
 * sidecar's own lease is safely current. A sidecar that cannot renew stops running turns
 * SELF_FENCE_MARGIN_MS before the others may take its actors over. Handover: each member
 * publishes in its row the newest epoch it has drained for (its lost actors deactivated, turns in
 * progress finished), and an actor that came here with an epoch is activated only once every
 * other member has drained for it (`settled`), so a graceful move never overlaps turns.
 */
export class TablePlacement implements ActorPlacement {
  readonly fences = true;
  readonly #o: TablePlacementOptions;
  readonly #id = randomUUID();
  readonly #heartbeatMs: number;
  readonly #leaseMs: number;
  #types: string[] = [];
  #history: View[] = [];
  /** performance.now() until which this sidecar's own lease is safely its own. */
  #safeUntil = 0;
  #stale = true;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #failing = false;
  #closed = false;
  /** The newest epoch this sidecar's listeners have finished rebalancing for. */
  #drained = 0;
  readonly #listeners = new Set<() => void | Promise<void>>();
  readonly #waiters = new Set<() => void>();

  constructor(options: TablePlacementOptions) {
    this.#o = options;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#leaseMs = options.leaseMs ?? DEFAULT_MEMBER_LEASE_MS;
  }

  get memberId(): string {
    return this.#id;
  }

  /** Joins with the hosted types. */
  async host(types: readonly string[]): Promise<void> {
    this.#types = [...types];
    await this.#beat();
    // Not joined (the store did not answer): lookups find no owner until a heartbeat gets through.
    this.#schedule();
  }

  #current(): View | undefined {
    return this.#history.at(-1);
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#beat().finally(() => this.#schedule());
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  /** One renewal; concurrent callers share it. */
  #beat(): Promise<void> {
    this.#beating ??= this.#renew().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    const started = performance.now();
    const now = Date.now();
    const { host, port } = this.#o.address();
    let snapshot: MembershipSnapshot;
    try {
      snapshot = await this.#o.store.renew(
        {
          id: this.#id,
          appId: this.#o.appId,
          host,
          port,
          types: this.#types,
          drained: this.#drained,
        },
        now,
        now + this.#leaseMs,
      );
    } catch (error) {
      if (!this.#failing) {
        this.#failing = true;
        this.#o.logger.warn("actor placement: cannot renew this sidecar's membership", {
          error: errorMessage(error),
        });
      }
      this.#checkStale();
      return;
    }
    if (this.#closed) return;
    if (this.#failing) {
      this.#failing = false;
      this.#o.logger.info("actor placement: membership renewed again");
    }
    this.#safeUntil = started + this.#leaseMs - Math.min(SELF_FENCE_MARGIN_MS, this.#leaseMs / 4);
    const wasStale = this.#stale;
    this.#stale = false;
    const current = this.#current();
    if (current && current.epoch === snapshot.epoch) {
      current.othersDrained = othersDrained(snapshot, this.#id);
      this.#wakeWaiters();
      if (wasStale) this.#changed();
      return;
    }
    this.#history.push(viewOf(snapshot, this.#id));
    if (this.#history.length > HISTORY) this.#history.shift();
    this.#changed();
  }

  #checkStale(): boolean {
    if (!this.#stale && performance.now() > this.#safeUntil) {
      this.#stale = true;
      this.#o.logger.warn(
        "actor placement: this sidecar's membership lease may have run out; it runs no actor turns until renewed",
      );
      this.#changed();
    }
    return this.#stale;
  }

  #wakeWaiters(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Tells the listeners; once they all finished, the drained epoch is published at once. */
  #changed(): void {
    this.#wakeWaiters();
    const epoch = this.#current()?.epoch ?? 0;
    void Promise.allSettled([...this.#listeners].map((l) => l())).then(() => {
      if (epoch <= this.#drained || this.#closed) return;
      this.#drained = epoch;
      void this.#beat();
    });
  }

  #ownerIn(view: View, type: string, id: string): Weighted<PlacementMember> | undefined {
    return rendezvousOwner(view.byType.get(type) ?? [], type, id);
  }

  lookup(type: string, id: string): Ownership {
    const view = this.#current();
    if (!view || this.#checkStale()) return { kind: "none" };
    const owner = this.#ownerIn(view, type, id);
    if (!owner) return { kind: "none" };
    if (owner.id === this.#id) return { kind: "local", epoch: view.epoch };
    const m = owner.member;
    return { kind: "remote", epoch: view.epoch, appId: m.appId, host: m.host, port: m.port };
  }

  stillOwner(type: string, id: string, epoch: number): boolean {
    if (this.#checkStale()) return false;
    const history = this.#history;
    let expected: number | undefined;
    let found = false;
    for (const view of history) {
      if (view.epoch < epoch) continue;
      // An epoch this sidecar never saw may have had another owner: not provably ours.
      if (expected !== undefined && view.epoch !== expected) return false;
      if (!found && view.epoch !== epoch) return false;
      found = true;
      if (this.#ownerIn(view, type, id)?.id !== this.#id) return false;
      expected = view.epoch + 1;
    }
    return found;
  }

  /**
   * Before `type/id` is activated here under `epoch`: when it was not ours in the epoch before,
   * waits until every other member has drained for `epoch` (or `signal`). True when it waited.
   */
  async settled(type: string, id: string, epoch: number, signal: AbortSignal): Promise<boolean> {
    const view = this.#current();
    if (!view || view.epoch !== epoch || view.othersDrained >= epoch) return false;
    const before = this.#history.at(-2);
    if (before?.epoch === epoch - 1 && this.#ownerIn(before, type, id)?.id === this.#id) {
      return false;
    }
    await this.#until(() => {
      const now = this.#current();
      return !now || now.epoch !== epoch || now.othersDrained >= epoch;
    }, signal);
    return true;
  }

  #until(done: () => boolean, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        signal.removeEventListener("abort", finish);
        this.#waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done() || this.#closed) finish();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", finish, { once: true });
      this.#waiters.add(check);
    });
  }

  /** Brings the cached membership to at least `epoch` (one early renewal) when it is behind. */
  async sync(epoch: number): Promise<void> {
    if ((this.#current()?.epoch ?? -1) >= epoch && !this.#stale) return;
    await this.#beat();
  }

  /**
   * Resolves once the membership moved past `epoch`, or after a whole lease and two heartbeats:
   * by then a member that stopped answering has been removed.
   */
  async changed(epoch: number, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.#leaseMs + 2 * this.#heartbeatMs);
    await this.#until(
      () => (this.#current()?.epoch ?? -1) > epoch,
      signal ? AbortSignal.any([signal, timeout]) : timeout,
    );
  }

  onChange(listener: () => void | Promise<void>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  describe(): string {
    const view = this.#current();
    const state = !view
      ? "not joined"
      : this.#stale
        ? `stale (epoch ${view.epoch})`
        : `epoch ${view.epoch}, ${view.members} members`;
    return `placement: table (${this.#o.storeName}; member ${this.#id}; ${state}; heartbeat ${this.#heartbeatMs}ms, lease ${this.#leaseMs}ms)`;
  }

  /** Leaves: the row goes at once, so the others take the actors over without waiting the lease. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#beating?.catch(() => undefined);
    await this.#o.store.leave(this.#id).catch((error: unknown) =>
      this.#o.logger.warn("actor placement: cannot leave the membership; its lease runs out", {
        error: errorMessage(error),
      }),
    );
    await this.#o.store.close();
    this.#wakeWaiters();
  }
}
