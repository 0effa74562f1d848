import { describe, expect, it } from "vitest";
import {
  alternate,
  compare,
  comparePair,
  deliveredRate,
  inFlight,
  latency,
  median,
  medianLatency,
  percentile,
} from "../src/bench.ts";

describe("median", () => {
  it("takes the middle of an odd count and ignores one outlier either way", () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([1000, 4, 5, 6, 0])).toBe(5);
  });
  it("averages the middle two of an even count and does not reorder its input", () => {
    const xs = [4, 1, 3, 2];
    expect(median(xs)).toBe(2.5);
    expect(xs).toEqual([4, 1, 3, 2]);
  });
  it("is NaN for no values", () => {
    expect(median([])).toBeNaN();
  });
});

describe("percentile and latency", () => {
  it("uses the nearest rank, clamped to the last value", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(51);
    expect(percentile(sorted, 99)).toBe(100);
    expect(percentile(sorted, 100)).toBe(100);
  });
  it("takes each percentile's median over rounds", () => {
    const rounds = [latency([3, 1, 2]), latency([30, 10, 20]), latency([6, 4, 5])];
    expect(rounds[0]).toEqual({ p50: 2, p90: 3, p99: 3 });
    expect(medianLatency(rounds)).toEqual({ p50: 5, p90: 6, p99: 6 });
  });
});

describe("alternate and compare", () => {
  it("interleaves the runs in the given order, round by round", async () => {
    const order: string[] = [];
    const r = await alternate(2, {
      b: async () => order.push("b"),
      a: async () => order.push("a"),
    });
    expect(order).toEqual(["b", "a", "b", "a"]);
    expect(r).toEqual({ b: [1, 3], a: [2, 4] });
  });
  it("compares the medians, not the best rounds", async () => {
    const measured = [10, 100, 30];
    const baseline = [5, 50, 10];
    const c = await compare(
      3,
      async () => measured.shift()!,
      async () => baseline.shift()!,
    );
    expect(c).toEqual({ measured: 30, baseline: 10, ratio: 3 });
  });
});

describe("inFlight", () => {
  it("runs every index once with at most the given concurrency", async () => {
    const seen: number[] = [];
    let active = 0;
    let peak = 0;
    await inFlight(20, 4, async (i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(i);
      active--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(4);
  });
});

describe("deliveredRate and comparePair", () => {
  it("does not finish before the subscriber has counted every message", async () => {
    let received = 5; // a count left over from an earlier run must not count
    const pending: number[] = [];
    const timer = setInterval(() => {
      if (pending.length > 0) received += pending.splice(0).length;
    }, 5);
    const rate = await deliveredRate(
      10,
      2,
      async (i) => void pending.push(i),
      () => received,
    );
    clearInterval(timer);
    expect(received).toBe(15);
    expect(rate).toBeGreaterThan(0);
  });
  it("returns the medians as a pair", async () => {
    const m = [3, 1, 2];
    const b = [30, 10, 20];
    expect(
      await comparePair(
        3,
        async () => m.shift()!,
        async () => b.shift()!,
      ),
    ).toEqual([2, 20]);
  });
});
