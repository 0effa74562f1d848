/**
 * Throughput of state.redis and pubsub.redis (publishing) against the raw ioredis client doing the same work, in one process
 * against one server. Prints ops/s for both and their ratio; it asserts nothing.
 *
 *   pnpm --filter @outrig/redis bench            (starts a Redis container)
 *   OUTRIG_TEST_REDIS_URL=redis://127.0.0.1:6379 pnpm --filter @outrig/redis bench
 */
import { randomUUID } from "node:crypto";
import { startRedis } from "@outrig/conformance/services";
import { compareInFlight, printRatios, type RatioRow } from "@outrig/tools/bench";
import { Redis } from "ioredis";
import { createRedisPubSub, createRedisStateStore } from "../src/index.ts";

const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const IN_FLIGHT = 32;
const BULK_SIZE = 100;

const ROUNDS = 3;

/** Component and raw rates at IN_FLIGHT concurrency, each the median of ROUNDS alternating rounds. */
const compare = (
  ops: number,
  component: (i: number) => Promise<unknown>,
  raw: (i: number) => Promise<unknown>,
) => compareInFlight(ROUNDS, ops, IN_FLIGHT, component, raw);

const service = await startRedis();
const store = await createRedisStateStore({ redisHost: service.url });
const pubsub = await createRedisPubSub({ redisHost: service.url, consumerID: "bench" });
const raw = new Redis(service.url);
const run = randomUUID().replaceAll("-", "");
const value = { name: "bench", tags: ["a", "b"], n: 42 };
const data = Buffer.from(JSON.stringify(value));
const keys = Array.from({ length: 1000 }, (_, i) => `${run}-${i}`);
const rawKeys = keys.map((k) => `${k}-raw`);

const rows: RatioRow[] = [];
try {
  // Warm both paths (script load, JIT) before measuring.
  await compare(
    2000,
    (i) => store.get({ key: keys[i % 1000]! }),
    (i) => raw.hmgetBuffer(rawKeys[i % 1000]!, "data", "version"),
  );
  rows.push([
    "set",
    ...(await compare(
      OPS,
      (i) => store.set({ key: keys[i % 1000]!, value }),
      (i) => raw.hset(rawKeys[i % 1000]!, "data", data, "version", "1"),
    )),
  ]);
  rows.push([
    "get",
    ...(await compare(
      OPS,
      (i) => store.get({ key: keys[i % 1000]! }),
      (i) => raw.hmgetBuffer(rawKeys[i % 1000]!, "data", "version"),
    )),
  ]);
  const batches = Math.max(1, Math.floor(OPS / BULK_SIZE / 4));
  const batch = (b: number, list: string[]) =>
    Array.from({ length: BULK_SIZE }, (_, j) => list[(b * BULK_SIZE + j) % 1000]!);
  const perItem = ([c, r]: [number, number]): [number, number] => [c * BULK_SIZE, r * BULK_SIZE];
  rows.push([
    `bulkSet x${BULK_SIZE} (items/s)`,
    ...perItem(
      await compare(
        batches,
        (b) => store.bulkSet(batch(b, keys).map((key) => ({ key, value }))),
        (b) => {
          const p = raw.pipeline();
          for (const key of batch(b, rawKeys)) p.hset(key, "data", data, "version", "1");
          return p.exec();
        },
      ),
    ),
  ]);
  rows.push([
    `bulkGet x${BULK_SIZE} (items/s)`,
    ...perItem(
      await compare(
        batches,
        (b) => store.bulkGet(batch(b, keys).map((key) => ({ key }))),
        (b) => {
          const p = raw.pipeline();
          for (const key of batch(b, rawKeys)) p.hmgetBuffer(key, "data", "version");
          return p.exec();
        },
      ),
    ),
  ]);
  const topic = `${run}-topic`;
  const rawTopic = `${run}-topic-raw`;
  const event = new TextEncoder().encode(JSON.stringify(value));
  rows.push([
    "publish",
    ...(await compare(
      OPS,
      () => pubsub.publish({ topic, data: event, contentType: "application/json" }),
      () => raw.xadd(rawTopic, "*", "data", data, "contentType", "application/json"),
    )),
  ]);
  rows.push([
    `bulkPublish x${BULK_SIZE} (items/s)`,
    ...perItem(
      await compare(
        batches,
        () =>
          pubsub.bulkPublish({
            topic,
            entries: Array.from({ length: BULK_SIZE }, (_, j) => ({ entryId: String(j), event })),
          }),
        () => {
          const p = raw.pipeline();
          for (let j = 0; j < BULK_SIZE; j++) p.xadd(rawTopic, "*", "data", data);
          return p.exec();
        },
      ),
    ),
  ]);
} finally {
  await raw.del(`${run}-topic`, `${run}-topic-raw`);
  await pubsub.close();
  const cleanup = raw.pipeline();
  for (const k of [...keys, ...rawKeys]) cleanup.del(k);
  await cleanup.exec();
  raw.disconnect();
  await store.close();
  await service.stop();
}

printRatios(
  `state.redis and pubsub.redis vs raw ioredis: ${OPS} ops x ${ROUNDS} rounds (median), ${IN_FLIGHT} in flight, server ${service.url}`,
  rows,
);
