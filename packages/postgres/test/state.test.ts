import { randomUUID } from "node:crypto";
import { startPostgres, useService } from "@outrig/conformance/services";
import { BulkError, type ComponentError, ConfigError, type ETagError, utf8 } from "@outrig/core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeywordValue } from "../src/connection-string.ts";
import {
  createPostgresStateStore,
  createPostgresV2StateStore,
  manifest,
  type PostgresStateStore,
  type PostgresV2StateStore,
  stateDefinition,
} from "../src/index.ts";

const postgres = useService(() => startPostgres());
const run = randomUUID().replaceAll("-", "").slice(0, 12);
const table = `outrig_test_${run}`;
const metaTable = `outrig_test_meta_${run}`;
const created: string[] = [table, metaTable];
let store: PostgresStateStore;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgres().connectionString });
  await admin.connect();
  store = await createPostgresStateStore({
    connectionString: postgres().connectionString,
    tableName: table,
    metadataTableName: metaTable,
  });
});

afterAll(async () => {
  await store?.close();
  if (admin) {
    await admin.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
    await admin.end();
  }
});

function key(suffix: string): string {
  return `${run}-${suffix}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

/** Counts the statements a store sends while `body` runs. */
async function countQueries(
  target: PostgresStateStore,
  body: () => Promise<unknown>,
): Promise<number> {
  const pool = target.pool as unknown as { query: (...args: unknown[]) => unknown };
  const original = pool.query;
  let count = 0;
  pool.query = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  try {
    await body().catch(() => {});
  } finally {
    pool.query = original;
  }
  return count;
}

describe("state.postgresql storage", () => {
  it("uses Dapr's v1 layout: jsonb value, base64 for bytes, xmin as the ETag", async () => {
    await store.set({ key: key("json"), value: { b: [1, 2], a: "x" } });
    await store.set({ key: key("bytes"), value: new Uint8Array([0, 1, 255]) });
    const rows = await admin.query(
      `SELECT key, value, isbinary, xmin::text AS xmin, expiredate FROM ${table} WHERE key = ANY($1) ORDER BY key`,
      [[key("json"), key("bytes")]],
    );
    expect(rows.rows.map((r) => [r.key, r.value, r.isbinary, r.expiredate])).toEqual([
      [key("bytes"), Buffer.from([0, 1, 255]).toString("base64"), true, null],
      [key("json"), { a: "x", b: [1, 2] }, false, null],
    ]);
    expect((await store.get({ key: key("json") })).etag).toBe(rows.rows[1].xmin);
    expect([...((await store.get({ key: key("bytes") })).data ?? [])]).toEqual([0, 1, 255]);
  });

  it("reads rows laid out as Dapr writes them, each with its kind, key and expiry", async () => {
    // daprd's sidecar keys are `<appid>||<key>`; a JSON value is jsonb, bytes a base64 jsonb string.
    const k = (s: string) => `dapr-app||${key(s)}`;
    await admin.query(
      `INSERT INTO ${table} (key, value, isbinary, expiredate) VALUES
        ($1, '{"name":"zed"}', false, NULL),
        ($2, to_jsonb($4::text), true, NULL),
        ($3, '"text"', false, now() + interval '1 hour')`,
      [k("json"), k("bytes"), k("ttl"), Buffer.from('{"not":"json"}').toString("base64")],
    );
    const json = await store.get({ key: k("json") });
    expect([json.kind, JSON.parse(utf8(json.data!))]).toEqual(["json", { name: "zed" }]);
    const bytes = await store.get({ key: k("bytes") });
    expect([bytes.kind, utf8(bytes.data!)]).toEqual(["bytes", '{"not":"json"}']);
    expect(await store.getValue(k("bytes"))).toBeInstanceOf(Uint8Array);
    expect(await store.getValue<{ name: string }>(k("json"))).toEqual({ name: "zed" });
    const ttl = await store.get({ key: k("ttl") });
    expect(await store.getValue(k("ttl"))).toBe("text");
    expect(Date.parse(ttl.metadata?.ttlExpireTime as string)).toBeGreaterThan(Date.now());
    // Only the JSON row matches a query: the base64 string of the bytes row has no fields.
    const found = await store.query({ query: { filter: { EQ: { name: "zed" } } } });
    expect(found.results.map((r) => r.key)).toContain(k("json"));
  });

  it("records the schema version in the metadata table and migrates only what is missing", async () => {
    const level = await admin.query(`SELECT value FROM ${metaTable} WHERE key = $1`, [
      `migrations-${table}`,
    ]);
    expect(level.rows).toEqual([{ value: "2" }]);

    // Level 2 recorded: a re-init must not re-run step 2 (the dropped index stays dropped).
    await admin.query(`DROP INDEX ${table}_expiredate_idx`);
    const again = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      tableName: table,
      metadataTableName: metaTable,
    });
    await again.close();
    const hasIndex = async () =>
      (
        await admin.query("SELECT 1 FROM pg_indexes WHERE indexname = $1", [
          `${table}_expiredate_idx`,
        ])
      ).rowCount;
    expect(await hasIndex()).toBe(0);

    // Back at level 1: step 2 runs again and the level is 2 afterwards.
    await admin.query(`UPDATE ${metaTable} SET value = '1' WHERE key = $1`, [
      `migrations-${table}`,
    ]);
    const migrated = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      tableName: table,
      metadataTableName: metaTable,
    });
    await migrated.close();
    expect(await hasIndex()).toBe(1);
    expect(
      (await admin.query(`SELECT value FROM ${metaTable} WHERE key = $1`, [`migrations-${table}`]))
        .rows,
    ).toEqual([{ value: "2" }]);
  });

  it("uses a table Dapr created, and several processes can initialise it at once", async () => {
    const daprTable = `outrig_dapr_${run}`;
    created.push(daprTable);
    await admin.query(`CREATE TABLE ${daprTable} (
      key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, isbinary boolean NOT NULL,
      insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(), updatedate TIMESTAMP WITH TIME ZONE NULL)`);
    await admin.query(
      `INSERT INTO ${daprTable} (key, value, isbinary) VALUES ($1, '{"from":"dapr"}', false)`,
      [key("dapr")],
    );
    const stores = await Promise.all(
      Array.from({ length: 3 }, () =>
        createPostgresStateStore({
          connectionString: postgres().connectionString,
          tableName: daprTable,
          metadataTableName: metaTable,
        }),
      ),
    );
    try {
      expect(JSON.parse(utf8((await stores[0]!.get({ key: key("dapr") })).data!))).toEqual({
        from: "dapr",
      });
      await stores[1]!.set({ key: key("dapr"), value: 1, metadata: { ttlInSeconds: "60" } });
      expect((await stores[2]!.get({ key: key("dapr") })).metadata?.ttlExpireTime).toBeDefined();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("quotes table names and rejects anything that is not an identifier", async () => {
    for (const tableName of ["x; DROP TABLE state", 'a"b', "a.b.c", "1abc", ""]) {
      const error = await rejectionOf(
        createPostgresStateStore({
          connectionString: postgres().connectionString,
          tableName: tableName || " ",
        }),
      );
      expect(error, tableName).toBeInstanceOf(ConfigError);
    }
    // A reserved word works once quoted.
    const reserved = `public.order_${run}`;
    created.push(reserved);
    const s = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      tableName: reserved,
      metadataTableName: metaTable,
    });
    await s.set({ key: key("r"), value: 1 });
    expect(utf8((await s.get({ key: key("r") })).data!)).toBe("1");
    await s.close();
  });
});

describe("state.postgresql ETags", () => {
  it("rejects a malformed ETag as invalid and a stale one as mismatch", async () => {
    const k = key("etag");
    await store.set({ key: k, value: 1 });
    for (const etag of ["abc", "-1", "4294967296", "1.5"]) {
      const error = await rejectionOf(store.set({ key: k, value: 2, etag }));
      expect((error as ETagError).kind, etag).toBe("invalid");
    }
    const { etag } = await store.get({ key: k });
    await store.set({ key: k, value: 2, etag });
    const stale = await rejectionOf(store.delete({ key: k, etag }));
    expect((stale as ETagError).kind).toBe("mismatch");
  });

  it("first-write fails on a live row", async () => {
    const k = key("fw");
    await store.set({ key: k, value: 1, options: { concurrency: "first-write" } });
    const error = await rejectionOf(
      store.set({ key: k, value: 2, options: { concurrency: "first-write" } }),
    );
    expect((error as ETagError).kind).toBe("mismatch");
  });
});

describe("state.postgresql bulk operations", () => {
  it("bulkSet is one statement for any number of items, and reports per-key failures", async () => {
    await store.set({ key: key("bs-etag"), value: "old" });
    const etag = (await store.get({ key: key("bs-etag") })).etag!;
    await store.set({ key: key("bs-taken"), value: "taken" });
    const items = Array.from({ length: 50 }, (_, i) => ({ key: key(`bs-${i}`), value: i }));
    let error: unknown;
    const statements = await countQueries(store, () =>
      store
        .bulkSet([
          ...items,
          { key: key("bs-etag"), value: "new", etag },
          { key: key("bs-stale"), value: "x", etag: "12345" },
          { key: key("bs-taken"), value: "y", options: { concurrency: "first-write" } },
          { key: key("bs-invalid"), value: "z", etag: "nope" },
        ])
        .catch((e: unknown) => {
          error = e;
          throw e;
        }),
    );
    expect(statements).toBe(1);
    expect(error).toBeInstanceOf(BulkError);
    const failed = (error as BulkError).errors.map((e) => [e.key, e.etagError()?.kind]).sort();
    expect(failed).toEqual(
      [
        [key("bs-invalid"), "invalid"],
        [key("bs-stale"), "mismatch"],
        [key("bs-taken"), "mismatch"],
      ].sort(),
    );
    const read = await store.bulkGet([...items, { key: key("bs-etag") }, { key: key("bs-taken") }]);
    expect(read.map((r) => utf8(r.data!))).toEqual([
      ...items.map((i) => String(i.value)),
      '"new"',
      '"taken"',
    ]);
  });

  it("bulkGet is one statement and returns missing keys without error", async () => {
    const keys = [key("bs-1"), key("none"), key("bs-2")];
    let items: Awaited<ReturnType<PostgresStateStore["bulkGet"]>> = [];
    const statements = await countQueries(store, async () => {
      items = await store.bulkGet(keys.map((k) => ({ key: k })));
    });
    expect(statements).toBe(1);
    expect(items.map((i) => [i.key, i.data ? utf8(i.data) : null, i.error])).toEqual([
      [key("bs-1"), "1", ""],
      [key("none"), null, ""],
      [key("bs-2"), "2", ""],
    ]);
  });

  it("applies repeated keys in order, one statement per repetition", async () => {
    const k = key("dup");
    const statements = await countQueries(store, () =>
      store.bulkSet([
        { key: k, value: "first" },
        { key: key("dup-other"), value: 1 },
        { key: k, value: "second" },
      ]),
    );
    expect(statements).toBe(2);
    expect(utf8((await store.get({ key: k })).data!)).toBe('"second"');
  });

  it("bulkDelete is one statement and reports stale ETags per key", async () => {
    await store.bulkSet([
      { key: key("bd-1"), value: 1 },
      { key: key("bd-2"), value: 2 },
    ]);
    let error: unknown;
    const statements = await countQueries(store, () =>
      store
        .bulkDelete([
          { key: key("bd-1") },
          { key: key("bd-2"), etag: "7" },
          { key: key("bd-never") },
        ])
        .catch((e) => {
          error = e;
          throw e;
        }),
    );
    expect(statements).toBe(1);
    expect((error as BulkError).errors.map((e) => e.key)).toEqual([key("bd-2")]);
    expect((await store.get({ key: key("bd-1") })).data).toBeNull();
    expect((await store.get({ key: key("bd-2") })).data).not.toBeNull();
  });
});

describe("state.postgresql transactions", () => {
  it("rolls back every earlier operation when a later one fails its ETag check", async () => {
    await store.set({ key: key("tx-b"), value: "kept" });
    const error = await rejectionOf(
      store.transact({
        operations: [
          { operation: "upsert", request: { key: key("tx-a"), value: "rolled back" } },
          { operation: "delete", request: { key: key("tx-b") } },
          { operation: "upsert", request: { key: key("tx-c"), value: 1, etag: "99" } },
        ],
      }),
    );
    expect((error as ETagError).kind).toBe("mismatch");
    expect((error as ETagError).message).toContain("operation 3");
    expect((await store.get({ key: key("tx-a") })).data).toBeNull();
    expect(utf8((await store.get({ key: key("tx-b") })).data!)).toBe('"kept"');
  });
});

describe("state.postgresql query", () => {
  const q = (suffix: string) => key(`q-${suffix}`);
  beforeAll(async () => {
    await store.bulkSet([
      { key: q("a"), value: { run, n: 1, s: "b", nested: { v: 10 } } },
      { key: q("b"), value: { run, n: 2.5, s: "a" } },
      { key: q("c"), value: { run, n: "3", s: "c", nested: { v: 30 } } },
      { key: q("d"), value: { run, n: 15.0 } },
      { key: q("bytes"), value: new Uint8Array([1, 2]) },
    ]);
  });
  const keysOf = async (filter: unknown, sort?: { key: string; order?: "ASC" | "DESC" }[]) =>
    (
      await store.query({
        query: { filter: { AND: [{ EQ: { run } }, filter] } as never, ...(sort ? { sort } : {}) },
      })
    ).results.map((r) => r.key);

  it("compares numbers numerically and never across types", async () => {
    expect(await keysOf({ GT: { n: 2 } })).toEqual([q("b"), q("d")]);
    expect(await keysOf({ EQ: { n: 15 } })).toEqual([q("d")]);
    expect(await keysOf({ EQ: { n: "3" } })).toEqual([q("c")]);
    expect(await keysOf({ LTE: { "nested.v": 10 } })).toEqual([q("a")]);
    expect(await keysOf({ GTE: { s: "b" } })).toEqual([q("a"), q("c")]);
  });

  it("NEQ matches items without the field; IN matches any listed value", async () => {
    expect(await keysOf({ NEQ: { s: "a" } })).toEqual([q("a"), q("c"), q("d")]);
    expect(await keysOf({ IN: { s: ["a", "c", "zzz"] } })).toEqual([q("b"), q("c")]);
  });

  it("sorts, then pages with a token", async () => {
    expect(
      await keysOf({ OR: [{ EQ: { s: "a" } }, { EQ: { s: "b" } }, { EQ: { s: "c" } }] }, [
        { key: "s", order: "DESC" },
      ]),
    ).toEqual([q("c"), q("a"), q("b")]);
    const page = (token?: string) =>
      store.query({
        query: { filter: { EQ: { run } }, page: { limit: 2, ...(token ? { token } : {}) } },
      });
    const first = await page();
    expect(first.results.map((r) => r.key)).toEqual([q("a"), q("b")]);
    const second = await page(first.token);
    expect(second.results.map((r) => r.key)).toEqual([q("c"), q("d")]);
    expect(second.token).toBeUndefined();
  });

  it("keeps request values out of the SQL text", async () => {
    const hostile = "x') OR TRUE; DROP TABLE state; --";
    expect(await keysOf({ EQ: { [hostile]: hostile } })).toEqual([]);
    expect(await keysOf({ EQ: { s: hostile } })).toEqual([]);
    expect(
      (await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n,
    ).toBeGreaterThan(0);
  });

  it("rejects a bad token and a bad filter with ERR_INVALID_REQUEST", async () => {
    for (const query of [
      { page: { limit: 1, token: "abc" } },
      { filter: { LIKE: { s: "a" } } },
      { filter: { GT: { n: [1] } } },
    ]) {
      const error = await rejectionOf(store.query({ query: query as never }));
      expect((error as ComponentError).code, JSON.stringify(query)).toBe("ERR_INVALID_REQUEST");
    }
  });
});

describe("state.postgresql TTL cleanup", () => {
  it("deletes expired rows once per interval, even with several stores on one table", async () => {
    const other = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      tableName: table,
      metadataTableName: metaTable,
      cleanupInterval: "0",
    });
    try {
      await store.set({ key: key("expiring"), value: 1, metadata: { ttlInSeconds: "1" } });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const present = async () =>
        (await admin.query(`SELECT 1 FROM ${table} WHERE key = $1`, [key("expiring")])).rowCount;
      expect(await present(), "reads filter expired rows; the row itself is still there").toBe(1);
      expect((await store.get({ key: key("expiring") })).data).toBeNull();

      expect(await store.cleanupExpired(0)).toBeGreaterThanOrEqual(1);
      expect(await present()).toBe(0);
      // Cleaned just now: another process asking with a one-hour interval does not claim a round.
      expect(await other.cleanupExpired(3_600_000)).toBeUndefined();
      const last = await admin.query(`SELECT value FROM ${metaTable} WHERE key = $1`, [
        `last-cleanup-${table}`,
      ]);
      expect(Date.parse(last.rows[0].value)).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await other.close();
    }
  });

  it("runs the cleanup on its own every cleanupInterval", async () => {
    const ownTable = `outrig_cleanup_${run}`;
    created.push(ownTable);
    // Dapr's alias, through the YAML path (library mode takes only the canonical names).
    const periodic = (await stateDefinition.create({
      connectionString: postgres().connectionString,
      tableName: ownTable,
      metadataTableName: metaTable,
      cleanupIntervalInSeconds: "1",
    })) as PostgresStateStore;
    try {
      await periodic.set({ key: key("auto"), value: 1, metadata: { ttlInSeconds: "1" } });
      const deadline = Date.now() + 10_000;
      let rows = 1;
      while (rows > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        rows =
          (await admin.query(`SELECT 1 FROM ${ownTable} WHERE key = $1`, [key("auto")])).rowCount ??
          0;
      }
      expect(rows, "the expired row must be deleted by the periodic cleanup").toBe(0);
    } finally {
      await periodic.close();
    }
  });
});

describe("state.postgresql configuration", () => {
  it("reads Dapr's key=value connection strings", () => {
    expect(
      parseKeywordValue(
        "host=localhost user=postgres password=example port=5432 database=dapr_test",
        "t",
      ),
    ).toEqual([
      ["host", "localhost"],
      ["user", "postgres"],
      ["password", "example"],
      ["port", "5432"],
      ["database", "dapr_test"],
    ]);
    expect(parseKeywordValue("host = db  password='a b\\'c' dbname=x", "t")).toEqual([
      ["host", "db"],
      ["password", "a b'c"],
      ["dbname", "x"],
    ]);
    expect(() => parseKeywordValue("just words", "t")).toThrow(ConfigError);
    expect(() => parseKeywordValue("password='open", "t")).toThrow(ConfigError);
  });

  it("requires connectionString and reports bad fields together", async () => {
    const error = await rejectionOf(
      createPostgresStateStore({ timeout: "soon", tableName: "a-b" }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.field).sort()).toEqual([
      "connectionString",
      "timeout",
    ]);
  });

  it("fails init with ERR_UNAVAILABLE, quickly, when nothing listens", async () => {
    const started = Date.now();
    const error = await rejectionOf(
      createPostgresStateStore({ connectionString: "postgres://postgres@127.0.0.1:1/x" }),
    );
    expect((error as ComponentError).code).toBe("ERR_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("rejects calls after close with ERR_CLOSED", async () => {
    const closing = await createPostgresStateStore({
      connectionString: postgres().connectionString,
      tableName: table,
      metadataTableName: metaTable,
    });
    await closing.close();
    await closing.close();
    const error = await rejectionOf(closing.get({ key: key("closed") }));
    expect((error as ComponentError).code).toBe("ERR_CLOSED");
  });
});

describe("state.postgresql library-mode options", () => {
  it("are the YAML's names, typed; an unknown one is refused by name, before connecting", async () => {
    const error = await rejectionOf(
      createPostgresV2StateStore({
        connectionString: postgres().connectionString,
        // @ts-expect-error: v2 has tablePrefix, not tableName (the type refuses it too)
        tableName: "state",
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]?.field).toBe("tableName");
    expect((error as ConfigError).message).toContain("tablePrefix");
  });
});

describe("state.postgresql v2 layout (Dapr's)", () => {
  const prefix = `outrig_v2_${run}_`;
  let v2: PostgresV2StateStore;
  beforeAll(async () => {
    created.push(`${prefix}state`);
    v2 = await createPostgresV2StateStore({
      connectionString: postgres().connectionString,
      tablePrefix: prefix,
      metadataTableName: metaTable,
    });
  });
  afterAll(() => v2?.close());

  it("creates <tablePrefix>state with bytea values, a UUID etag and expires_at, recorded under Dapr's key", async () => {
    const columns = await admin.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
      [`${prefix}state`],
    );
    expect(columns.rows.map((c) => [c.column_name, c.data_type])).toEqual([
      ["key", "text"],
      ["value", "bytea"],
      ["etag", "uuid"],
      ["created_at", "timestamp with time zone"],
      ["updated_at", "timestamp with time zone"],
      ["expires_at", "timestamp with time zone"],
    ]);
    const level = await admin.query(`SELECT value FROM ${metaTable} WHERE key = $1`, [
      `migrations-state-v2-${prefix}`,
    ]);
    expect(level.rows).toEqual([{ value: "1" }]);
  });

  it("writes a JSON value as its JSON text and bytes verbatim; the ETag is the etag column", async () => {
    await v2.set({ key: `app||${key("json")}`, value: { name: "zed" } });
    await v2.set({ key: `app||${key("bytes")}`, value: new Uint8Array([0, 255]) });
    const rows = await admin.query(
      `SELECT key, value, etag::text AS etag FROM ${prefix}state WHERE key = ANY($1) ORDER BY key`,
      [[`app||${key("bytes")}`, `app||${key("json")}`]],
    );
    expect(rows.rows.map((r) => [r.key, [...r.value]])).toEqual([
      [`app||${key("bytes")}`, [0, 255]],
      [`app||${key("json")}`, [...Buffer.from('{"name":"zed"}')]],
    ]);
    const got = await v2.get({ key: `app||${key("json")}` });
    expect(got.etag).toBe(rows.rows[1].etag);
    expect(got.kind).toBeUndefined();
    expect(await v2.getValue(`app||${key("json")}`)).toEqual({ name: "zed" });
  });

  it("reads rows Dapr wrote, with their expiry, and treats a non-UUID ETag as a mismatch", async () => {
    const daprKey = `dapr-app||${key("dapr")}`;
    await admin.query(
      `INSERT INTO ${prefix}state (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), now() + interval '1 hour')`,
      [daprKey, Buffer.from('"from dapr"')],
    );
    const got = await v2.get({ key: daprKey });
    expect(utf8(got.data as Uint8Array)).toBe('"from dapr"');
    expect(got.etag).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(got.metadata?.ttlExpireTime as string)).toBeGreaterThan(Date.now());
    const error = await rejectionOf(v2.set({ key: daprKey, value: 1, etag: "1" }));
    expect((error as ETagError).kind).toBe("mismatch");
  });

  it("is state.postgresql version v2 in the manifest, after v1 (a YAML without version gets v1)", () => {
    const versions = manifest.components
      .filter((c) => c.type === "state.postgresql")
      .map((c) => c.version);
    expect(versions).toEqual(["v1", "v2"]);
    expect(v2.capabilities.has("QUERY_API")).toBe(false);
  });
});
