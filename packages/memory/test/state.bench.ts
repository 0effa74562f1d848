/**
 * Cost of the in-memory state store against the cheapest possible store (an async wrapper around
 * a Map that copies bytes, as the component does), measured in the same process. Prints median
 * rates and ratios, not absolute targets; it asserts nothing.
 *
 *   node --conditions=@outrig/source packages/memory/test/state.bench.ts [operations]
 */
import { encodeValue } from "@outrig/core";
import { elapsedMs, median } from "@outrig/tools/bench";
import { MemoryStateStore } from "../src/state.ts";

const total = Number(process.argv[2] ?? 50_000);
const value = { message: "x".repeat(64), n: 1 };

interface Target {
  set(key: string): Promise<void>;
  get(key: string): Promise<unknown>;
}

function baseline(): Target {
  const map = new Map<string, Uint8Array>();
  return {
    async set(key) {
      map.set(key, new Uint8Array(encodeValue(value)));
    },
    async get(key) {
      const data = map.get(key);
      return data ? new Uint8Array(data) : null;
    },
  };
}

function component(store: MemoryStateStore): Target {
  return {
    set: (key) => store.set({ key, value }),
    get: (key) => store.get({ key }),
  };
}

async function round(target: Target) {
  const set = await elapsedMs(async () => {
    for (let i = 0; i < total; i++) await target.set(`k${i}`);
  });
  const get = await elapsedMs(async () => {
    for (let i = 0; i < total; i++) await target.get(`k${i}`);
  });
  return { set, get };
}

const results: Record<string, { set: number[]; get: number[]; keysLike: number[] }> = {
  baseline: { set: [], get: [], keysLike: [] },
  component: { set: [], get: [], keysLike: [] },
};
for (let r = 0; r < 5; r++) {
  const b = await round(baseline());
  results.baseline?.set.push(b.set);
  results.baseline?.get.push(b.get);
  const store = new MemoryStateStore({ cleanupInterval: 0 });
  const c = await round(component(store));
  results.component?.set.push(c.set);
  results.component?.get.push(c.get);
  // A full keysLike page walk, the operation that sorts the keyspace on every call.
  results.component?.keysLike.push(
    await elapsedMs(async () => {
      let token: string | undefined;
      do {
        const page = await store.keysLike({
          pattern: "k%",
          pageSize: 1000,
          ...(token ? { continuationToken: token } : {}),
        });
        token = page.continuationToken;
      } while (token);
    }),
  );
  await store.close();
}

const rate = (ms: number) => Math.round((total / ms) * 1000);
for (const op of ["set", "get"] as const) {
  const b = median(results.baseline?.[op] ?? []);
  const c = median(results.component?.[op] ?? []);
  console.log(
    `${op}: component ${rate(c)} ops/s, baseline ${rate(b)} ops/s, component/baseline time ratio ${(c / b).toFixed(2)}`,
  );
}
console.log(
  `keysLike walk of ${total} keys in pages of 1000: ${median(results.component?.keysLike ?? []).toFixed(1)} ms (median of 5)`,
);
