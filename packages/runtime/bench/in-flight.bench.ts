// What hot reload's call counting costs: state gets on an in-memory store through the counting
// wrapper every loaded component gets (components/in-flight.ts), against the same store called
// directly, alternating in each round (median of ROUNDS). Prints both rates and their ratio.
// Run: pnpm --filter @outrig/runtime bench:in-flight
import { createMemoryStateStore } from "@outrig/memory";
import { compare, inFlightRate } from "@outrig/tools/bench";
import { countCalls } from "../src/components/in-flight.ts";

const OPS = Number(process.env.BENCH_OPS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENCY = 16;

const store = await createMemoryStateStore({});
await store.set({ key: "k", value: { a: 1 } });
const counted = countCalls(store).instance;

const rate = (s: typeof store) => () => inFlightRate(OPS, CONCURRENCY, () => s.get({ key: "k" }));
const c = await compare(ROUNDS, rate(counted), rate(store));
console.log(
  `state get, in-memory: counted ${Math.round(c.measured)} ops/s, direct ${Math.round(c.baseline)} ops/s, ratio ${c.ratio.toFixed(3)} (median of ${ROUNDS} rounds, ${OPS} gets each)`,
);
await store.close();
