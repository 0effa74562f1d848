/**
 * Throughput of state.postgresql against the raw pg client doing the same work, in one process
 * against one server. Prints ops/s for both and their ratio; it asserts nothing.
 *
 *   pnpm --filter @outrig/postgres bench        (starts a PostgreSQL container)
 *   OUTRIG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test pnpm --filter @outrig/postgres bench
 */
import { randomUUID } from "node:crypto";
import { startPostgres } from "@outrig/conformance/services";
import { compareInFlight, printRatios, type RatioRow } from "@outrig/tools/bench";
import pg from "pg";
import { createPostgresStateStore } from "../src/index.ts";

const OPS = Number(process.env.BENCH_OPS ?? 5_000);
const IN_FLIGHT = 16;
const BULK_SIZE = 100;
const ROUNDS = 3;

/** Component and raw rates at IN_FLIGHT concurrency, each the median of ROUNDS alternating rounds. */
const compare = (
  ops: number,
  component: (i: number) => Promise<unknown>,
  raw: (i: number) => Promise<unknown>,
) => compareInFlight(ROUNDS, ops, IN_FLIGHT, component, raw);

const service = await startPostgres();
const run = randomUUID().replaceAll("-", "").slice(0, 12);
const table = `outrig_bench_${run}`;
const rawTable = `outrig_bench_raw_${run}`;
const store = await createPostgresStateStore({
  connectionString: service.connectionString,
  tableName: table,
  maxConns: String(IN_FLIGHT),
});
const raw = new pg.Pool({ connectionString: service.connectionString, max: IN_FLIGHT });
await raw.query(
  `CREATE TABLE ${rawTable} (key text PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
   insertdate timestamptz NOT NULL DEFAULT now(), updatedate timestamptz, expiredate timestamptz)`,
);
const value = { name: "bench", tags: ["a", "b"], n: 42 };
const json = JSON.stringify(value);
const keys = Array.from({ length: 1000 }, (_, i) => `${run}-${i}`);
const rawSet = {
  name: "bench_raw_set",
  text: `INSERT INTO ${rawTable} (key, value, isbinary) VALUES ($1, $2::jsonb, false)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updatedate = now()`,
};
const rawGet = {
  name: "bench_raw_get",
  text: `SELECT value::text, xmin::text FROM ${rawTable} WHERE key = $1`,
};

const rows: RatioRow[] = [];
try {
  await compare(
    500,
    (i) => store.set({ key: keys[i % 1000]!, value }),
    (i) => raw.query({ ...rawSet, values: [keys[i % 1000], json] }),
  );
  rows.push([
    "set",
    ...(await compare(
      OPS,
      (i) => store.set({ key: keys[i % 1000]!, value }),
      (i) => raw.query({ ...rawSet, values: [keys[i % 1000], json] }),
    )),
  ]);
  rows.push([
    "get",
    ...(await compare(
      OPS,
      (i) => store.get({ key: keys[i % 1000]! }),
      (i) => raw.query({ ...rawGet, values: [keys[i % 1000]] }),
    )),
  ]);
  const batches = Math.max(1, Math.floor(OPS / BULK_SIZE));
  const batch = (b: number) =>
    Array.from({ length: BULK_SIZE }, (_, j) => keys[(b * BULK_SIZE + j) % 1000]!);
  const perItem = ([c, r]: [number, number]): [number, number] => [c * BULK_SIZE, r * BULK_SIZE];
  rows.push([
    `bulkSet x${BULK_SIZE} (items/s)`,
    ...perItem(
      await compare(
        batches,
        (b) => store.bulkSet(batch(b).map((key) => ({ key, value }))),
        (b) =>
          raw.query(
            `INSERT INTO ${rawTable} (key, value, isbinary)
             SELECT k, v, false FROM unnest($1::text[], $2::jsonb[]) AS i(k, v)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updatedate = now()`,
            [batch(b), batch(b).map(() => json)],
          ),
      ),
    ),
  ]);
  rows.push([
    `bulkGet x${BULK_SIZE} (items/s)`,
    ...perItem(
      await compare(
        batches,
        (b) => store.bulkGet(batch(b).map((key) => ({ key }))),
        (b) =>
          raw.query(
            `SELECT key, value::text, xmin::text FROM ${rawTable} WHERE key = ANY($1::text[])`,
            [batch(b)],
          ),
      ),
    ),
  ]);
} finally {
  await raw.query(`DROP TABLE IF EXISTS ${table}, ${rawTable}`);
  await raw.end();
  await store.close();
  await service.stop();
}

printRatios(
  `state.postgresql vs raw pg: ${OPS} ops x ${ROUNDS} rounds (median), ${IN_FLIGHT} in flight, ${service.external ? "external server" : `container ${service.image}`}`,
  rows,
);
