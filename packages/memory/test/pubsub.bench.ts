/**
 * Throughput of the in-memory pub/sub against the cheapest possible in-process bus (an
 * EventEmitter that defers each delivery with setImmediate, as the component does), measured in
 * the same process. Prints median rates and ratios, not absolute targets; it asserts nothing.
 *
 *   node --conditions=@outrig/source packages/memory/test/pubsub.bench.ts [messages]
 */
import { EventEmitter } from "node:events";
import { elapsedMs, median } from "@outrig/tools/bench";
import { createMemoryPubSub } from "../src/pubsub.ts";

const total = Number(process.argv[2] ?? 20_000);
const data = new TextEncoder().encode("x".repeat(64));

async function baseline(): Promise<number> {
  const bus = new EventEmitter();
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  bus.on("t", (message: Uint8Array) => {
    setImmediate(async () => {
      await Promise.resolve(message);
      if (++handled === total) done();
    });
  });
  return elapsedMs(async () => {
    for (let i = 0; i < total; i++) bus.emit("t", data.slice());
    await finished;
  });
}

async function memory(
  metadata: Record<string, string>,
  publishMetadata: (i: number) => Record<string, string> | undefined,
  bulk = false,
): Promise<number> {
  const pubsub = await createMemoryPubSub(metadata);
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  if (bulk) {
    await pubsub.bulkSubscribe(
      { topic: "t", maxMessagesCount: 100, maxAwaitDurationMs: 5 },
      async (m) => {
        handled += m.entries.length;
        if (handled === total) done();
        return m.entries.map((e) => ({ entryId: e.entryId }));
      },
    );
  } else {
    await pubsub.subscribe({ topic: "t" }, async () => {
      if (++handled === total) done();
    });
  }
  const elapsed = await elapsedMs(async () => {
    for (let i = 0; i < total; i++)
      await pubsub.publish({ topic: "t", data, metadata: publishMetadata(i) });
    await finished;
  });
  await pubsub.close();
  return elapsed;
}

const runs: [string, () => Promise<number>][] = [
  ["baseline EventEmitter + setImmediate", baseline],
  ["pubsub.in-memory parallel, no partition key", () => memory({}, () => undefined)],
  [
    "pubsub.in-memory parallel, 16 partition keys",
    () => memory({}, (i) => ({ partitionKey: `k${i % 16}` })),
  ],
  ["pubsub.in-memory single", () => memory({ concurrencyMode: "single" }, () => undefined)],
  ["pubsub.in-memory bulkSubscribe (100 per batch)", () => memory({}, () => undefined, true)],
];

// Rounds interleave the scenarios so a noisy neighbour on a shared machine hits all of them alike;
// the first round only warms the JIT up and the median of the rest is reported.
const rounds = 6;
const times = runs.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  for (const [i, [, run]] of runs.entries()) {
    const ms = await run();
    if (round > 0) times[i]?.push(ms);
  }
}
const base = median(times[0] ?? []);
for (const [i, [name]] of runs.entries()) {
  const ms = median(times[i] ?? []);
  const rate = Math.round((total / ms) * 1000);
  console.log(
    `${name.padEnd(48)} ${String(rate).padStart(9)} msg/s  ${(ms / base).toFixed(2)}x baseline time`,
  );
}
