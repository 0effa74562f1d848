/**
 * The one statistic every outrig benchmark reports: the median of N rounds, with the measured
 * target and its baseline alternating within each round of the same run, and ratios taken
 * between the two medians. Best-of-N rewards a single lucky round and so understates the cost of
 * whichever side got it; the median ignores one outlier in either direction, which on a shared
 * machine is usually a noisy neighbour rather than the code under test.
 */

/** Median of the values; the mean of the middle two when the count is even. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile `p` (0..100) of values already sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
}

/** p50/p90/p99 of one round's latencies (sorts them in place). */
export function latency(values: number[]): Latency {
  values.sort((a, b) => a - b);
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99) };
}

/** Each percentile's median over the rounds, so one slow round cannot move the tail alone. */
export function medianLatency(rounds: readonly Latency[]): Latency {
  return {
    p50: median(rounds.map((r) => r.p50)),
    p90: median(rounds.map((r) => r.p90)),
    p99: median(rounds.map((r) => r.p99)),
  };
}

/** Wall-clock milliseconds `work` takes. */
export async function elapsedMs(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Operations per second when `work` performs `count` operations. */
export async function opsPerSecond(count: number, work: () => unknown): Promise<number> {
  return (count / (await elapsedMs(work))) * 1000;
}

/** Runs `op(0)` .. `op(count - 1)` with `concurrency` of them in flight at any time. */
export async function inFlight(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Operations per second of `op(0)` .. `op(count - 1)` run `concurrency` at a time. */
export function inFlightRate(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  return opsPerSecond(count, () => inFlight(count, concurrency, op));
}

/**
 * Messages per second from the first of `count` publishes (`concurrency` at a time) until
 * `received()`, a running count kept by the subscriber, has grown by `count`.
 */
export function deliveredRate(
  count: number,
  concurrency: number,
  publish: (i: number) => Promise<unknown>,
  received: () => number,
): Promise<number> {
  const base = received();
  return opsPerSecond(count, async () => {
    await inFlight(count, concurrency, publish);
    while (received() - base < count) await new Promise((r) => setTimeout(r, 2));
  });
}

/**
 * Runs every named measurement once per round, in the given order, for `rounds` rounds, and
 * returns each one's results in round order. Interleaving rather than running one side's rounds
 * back to back makes drift in machine load hit every side alike.
 */
export async function alternate<K extends string, R>(
  rounds: number,
  runs: Record<K, () => Promise<R>>,
): Promise<Record<K, R[]>> {
  const names = Object.keys(runs) as K[];
  const results = Object.fromEntries(names.map((n) => [n, [] as R[]])) as Record<K, R[]>;
  for (let round = 0; round < rounds; round++) {
    for (const name of names) results[name].push(await runs[name]());
  }
  return results;
}

export interface Comparison {
  /** Median over the rounds of the measured side. */
  measured: number;
  /** Median over the rounds of the baseline, measured in the same rounds. */
  baseline: number;
  /** measured / baseline. */
  ratio: number;
}

/**
 * Alternates `measured` and `baseline` for `rounds` rounds (measured first in each) and compares
 * their medians. Whether a higher figure is better (ops/s) or worse (µs, ms) is the caller's.
 */
export async function compare(
  rounds: number,
  measured: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<Comparison> {
  const r = await alternate(rounds, { measured, baseline });
  const m = median(r.measured);
  const b = median(r.baseline);
  return { measured: m, baseline: b, ratio: m / b };
}

/** compare() as a [measured, baseline] pair, for tables that keep rows of two figures. */
export async function comparePair(
  rounds: number,
  measured: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<[number, number]> {
  const c = await compare(rounds, measured, baseline);
  return [c.measured, c.baseline];
}

/**
 * comparePair() of two in-flight rates: `count` calls of `component` and of `raw`, `concurrency`
 * at a time, alternating for `rounds` rounds.
 */
export function compareInFlight(
  rounds: number,
  count: number,
  concurrency: number,
  component: (i: number) => Promise<unknown>,
  raw: (i: number) => Promise<unknown>,
): Promise<[number, number]> {
  return comparePair(
    rounds,
    () => inFlightRate(count, concurrency, component),
    () => inFlightRate(count, concurrency, raw),
  );
}

/** One side of a publish-until-delivered comparison: how it publishes, and its running count. */
export interface DeliveredSide {
  publish: (i: number) => Promise<unknown>;
  received: () => number;
}

/** comparePair() of two deliveredRate()s: `count` messages each, `concurrency` in flight. */
export function compareDelivered(
  rounds: number,
  count: number,
  concurrency: number,
  component: DeliveredSide,
  raw: DeliveredSide,
): Promise<[number, number]> {
  return comparePair(
    rounds,
    () => deliveredRate(count, concurrency, component.publish, component.received),
    () => deliveredRate(count, concurrency, raw.publish, raw.received),
  );
}

/** A row of a component-vs-raw table: what was measured, and the two medians. */
export type RatioRow = [name: string, component: number, raw: number];

/** Prints the title, then per row both figures (in `unit`) and component / raw. */
export function printRatios(title: string, rows: readonly RatioRow[], unit = "ops/s"): void {
  console.log(title);
  const width = Math.max(26, ...rows.map(([name]) => name.length + 1));
  for (const [name, component, raw] of rows) {
    console.log(
      `${name.padEnd(width)} component ${component.toFixed(0).padStart(8)} ${unit}   raw ${raw.toFixed(0).padStart(8)} ${unit}   ratio ${(component / raw).toFixed(2)}`,
    );
  }
}
