// The scheduler's loop on a store whose reads take time, as PostgreSQL's do: a job scheduled
// while the loop is reading the next due time (after a pass) still fires, without waiting for
// a poll; and many wakes in one turn (a burst of schedules) make one pass, not one each.
import { afterEach, describe, expect, it } from "vitest";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import { SqliteSchedulerStore } from "../src/scheduler/sqlite-store.ts";
import type { SchedulerStore } from "../src/scheduler/store.ts";
import { until } from "./helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real SQLite store whose reads of the next due time take `delayMs`, counting passes. */
class SlowReads implements SchedulerStore {
  readonly inner = new SqliteSchedulerStore(":memory:");
  claims = 0;
  #entered: (() => void) | undefined;
  readonly delayMs: number;
  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }
  /** Resolves when the next nextClaimable read has begun. */
  nextRead(): Promise<void> {
    return new Promise((resolve) => {
      this.#entered = resolve;
    });
  }
  put: SchedulerStore["put"] = (job, overwrite) => this.inner.put(job, overwrite);
  get: SchedulerStore["get"] = (key) => this.inner.get(key);
  delete: SchedulerStore["delete"] = (key) => this.inner.delete(key);
  deleteByPrefix: SchedulerStore["deleteByPrefix"] = (p) => this.inner.deleteByPrefix(p);
  release: SchedulerStore["release"] = (owner) => this.inner.release(owner);
  list: SchedulerStore["list"] = (p, limit) => this.inner.list(p, limit);
  claim: SchedulerStore["claim"] = (...args) => {
    this.claims++;
    return this.inner.claim(...args);
  };
  settle: SchedulerStore["settle"] = (owner, items) => this.inner.settle(owner, items);
  renew: SchedulerStore["renew"] = (owner, keys, until) => this.inner.renew(owner, keys, until);
  nextClaimable: SchedulerStore["nextClaimable"] = async (prefixes) => {
    this.#entered?.();
    this.#entered = undefined;
    // 0: as fast as SQLite's in-process reads, no turn of the event loop in between.
    if (this.delayMs > 0) await sleep(this.delayMs);
    return this.inner.nextClaimable(prefixes);
  };
  close: SchedulerStore["close"] = () => this.inner.close();
}

const schedulers: Scheduler[] = [];
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
});

const spec = (dueAt: number) => ({ dueTime: new Date(dueAt).toISOString() });

describe("scheduler wakes", () => {
  it("fires a job scheduled while the loop reads the next due time", async () => {
    const store = new SlowReads(100);
    // No poll within the test: only a wake can fire the job.
    const scheduler = new Scheduler({ store, pollMs: 60_000 });
    schedulers.push(scheduler);
    const fired: string[] = [];
    const reading = store.nextRead();
    scheduler.handle("t||", async (trigger) => {
      fired.push(trigger.key);
      return true;
    });
    await reading; // the first pass found nothing and is reading the next due time
    await scheduler.schedule("t||late", spec(Date.now()), new Uint8Array());
    await until(() => fired.includes("t||late"), 3000);
    expect(fired).toEqual(["t||late"]);
  });

  it("makes one pass for a burst of wakes in one turn", async () => {
    const store = new SlowReads(0);
    const scheduler = new Scheduler({ store, pollMs: 60_000 });
    schedulers.push(scheduler);
    scheduler.handle("b||", async () => true);
    await sleep(50);
    const before = store.claims;
    const due = Date.now() + 60_000;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        scheduler.schedule(`b||${i}`, spec(due), new Uint8Array()),
      ),
    );
    await sleep(100);
    expect(store.claims - before).toBeLessThan(20);
  });
});
