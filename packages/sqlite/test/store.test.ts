import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { ComponentError, ETagError, toBytes, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createSqliteStateStore } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const dir = tempDir("store");
let n = 0;
const dbFile = () => join(dir, `store-${++n}.db`);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComponentError);
  return (error as ComponentError).code;
}

describe("file format", () => {
  it("uses Dapr's table layout in WAL mode, and reads rows written the way daprd writes them", async () => {
    const file = dbFile();
    const store = await createSqliteStateStore({ connectionString: file });
    await store.set({ key: "mine", value: { a: 1 } });
    // Bytes are base64 with is_binary even when they are valid UTF-8 (Dapr's layout).
    await store.set({ key: "text-bytes", value: new TextEncoder().encode("hi") });
    const raw = new DatabaseSync(file);
    try {
      expect(
        (raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      ).toBe("wal");
      const columns = (raw.prepare("PRAGMA table_info(state)").all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(columns).toEqual([
        "key",
        "value",
        "is_binary",
        "etag",
        "expiration_time",
        "update_time",
      ]);
      expect(raw.prepare("SELECT value FROM metadata WHERE key = 'migrations'").get()).toEqual({
        value: "1",
      });
      expect(raw.prepare("SELECT value, is_binary FROM state WHERE key = 'mine'").get()).toEqual({
        value: '{"a":1}',
        is_binary: 0,
      });
      expect(
        raw.prepare("SELECT value, is_binary FROM state WHERE key = 'text-bytes'").get(),
      ).toEqual({ value: Buffer.from("hi").toString("base64"), is_binary: 1 });
      // daprd: bytes as base64 with is_binary, expiry as SQLite's CURRENT_TIMESTAMP text.
      raw
        .prepare(
          "INSERT INTO state (key, value, is_binary, etag, expiration_time) VALUES ('dapr', ?, 1, 'e1', datetime('now', '+1 hour'))",
        )
        .run(Buffer.from([0xff, 0x00, 0x01]).toString("base64"));
      raw
        .prepare(
          "INSERT INTO state (key, value, is_binary, etag, expiration_time) VALUES ('old', '1', 0, 'e2', datetime('now', '-1 second'))",
        )
        .run();
    } finally {
      raw.close();
    }
    const got = await store.get({ key: "dapr" });
    expect([...(got.data as Uint8Array)]).toEqual([0xff, 0x00, 0x01]);
    expect(got.kind).toBe("bytes");
    expect((await store.get({ key: "mine" })).kind).toBe("json");
    expect(got.etag).toBe("e1");
    const expires = Date.parse(got.metadata?.ttlExpireTime as string);
    expect(Math.abs(expires - (Date.now() + 3_600_000))).toBeLessThan(5_000);
    expect((await store.get({ key: "old" })).data).toBeNull();
    await store.close();
  });

  it("keeps the rollback journal when disableWAL is set", async () => {
    const file = dbFile();
    const store = await createSqliteStateStore({ connectionString: file, disableWAL: "true" });
    await store.set({ key: "k", value: 1 });
    await store.close();
    const raw = new DatabaseSync(file);
    expect(
      (raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
    ).toBe("delete");
    raw.close();
  });

  it("stores text verbatim, including a byte-order mark, and non-UTF-8 bytes as base64", async () => {
    const store = await createSqliteStateStore({ connectionString: ":memory:" });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]);
    await store.set({ key: "bom", value: bom });
    expect([...((await store.get({ key: "bom" })).data as Uint8Array)]).toEqual([...bom]);
    await store.set({ key: "bin", value: new Uint8Array([0xc3, 0x28]) });
    expect([...((await store.get({ key: "bin" })).data as Uint8Array)]).toEqual([0xc3, 0x28]);
    await store.close();
  });

  it("opens file: URIs, and mode=ro opens an existing file read-only", async () => {
    const file = dbFile();
    const writer = await createSqliteStateStore({
      connectionString: `file:${file}?_pragma=foreign_keys(1)`,
    });
    await writer.set({ key: "k", value: "v" });
    await writer.close();
    const reader = await createSqliteStateStore({ connectionString: `file:${file}?mode=ro` });
    expect(utf8((await reader.get({ key: "k" })).data as Uint8Array)).toBe('"v"');
    expect(await codeOf(reader.set({ key: "k", value: "w" }))).toBe("ERR_INTERNAL");
    await reader.close();
    expect(
      await codeOf(
        createSqliteStateStore({ connectionString: `file:${join(dir, "none.db")}?mode=ro` }),
      ),
    ).toBe("ERR_UNAVAILABLE");
  });
});

describe("several connections on one file", () => {
  it("two stores on the same file see each other's writes and first-write holds across them", async () => {
    const file = dbFile();
    const a = await createSqliteStateStore({ connectionString: file });
    const b = await createSqliteStateStore({ connectionString: file });
    await a.set({ key: "shared", value: 1, options: { concurrency: "first-write" } });
    await expect(
      b.set({ key: "shared", value: 2, options: { concurrency: "first-write" } }),
    ).rejects.toBeInstanceOf(ETagError);
    const seen = await b.get({ key: "shared" });
    await b.set({ key: "shared", value: 3, etag: seen.etag as string });
    expect(utf8((await a.get({ key: "shared" })).data as Uint8Array)).toBe("3");
    await a.close();
    await b.close();
  });

  it("waits for another connection's write lock, fails with ERR_TIMEOUT after `timeout`, and reads meanwhile", async () => {
    const file = dbFile();
    const store = await createSqliteStateStore({
      connectionString: file,
      busyTimeout: "20ms",
      timeout: "300ms",
    });
    await store.set({ key: "k", value: "before" });
    const holder = new DatabaseSync(file);
    holder.exec("PRAGMA busy_timeout = 1000");
    holder.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      expect(await codeOf(store.set({ key: "k", value: "blocked" }))).toBe("ERR_TIMEOUT");
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // WAL: readers are not blocked by a writer.
      expect(utf8((await store.get({ key: "k" })).data as Uint8Array)).toBe('"before"');
      // A write queued while the lock is held goes through once it is released.
      const pending = store.set({ key: "k", value: "after" });
      await sleep(50);
      holder.exec("COMMIT");
      await pending;
    } finally {
      holder.close();
    }
    expect(utf8((await store.get({ key: "k" })).data as Uint8Array)).toBe('"after"');
    await store.close();
  });
});

describe("expired rows", () => {
  it("the periodic cleanup deletes expired rows from the file", async () => {
    const file = dbFile();
    const store = await createSqliteStateStore({
      connectionString: file,
      cleanupInterval: "300ms",
    });
    await store.set({ key: "short", value: 1, metadata: { ttlInSeconds: "1" } });
    await store.set({ key: "long", value: 1, metadata: { ttlInSeconds: "3600" } });
    await store.set({ key: "none", value: 1 });
    const raw = new DatabaseSync(file);
    const count = () => (raw.prepare("SELECT count(*) AS n FROM state").get() as { n: number }).n;
    try {
      expect(count()).toBe(3);
      const deadline = Date.now() + 5000;
      while (count() > 2 && Date.now() < deadline) await sleep(100);
      expect(count(), "the expired row must be deleted by the periodic cleanup").toBe(2);
      expect(raw.prepare("SELECT key FROM state ORDER BY key").all()).toEqual([
        { key: "long" },
        { key: "none" },
      ]);
      expect(
        raw.prepare("SELECT count(*) AS n FROM metadata WHERE key = 'last-cleanup'").get(),
      ).toEqual({ n: 1 });
    } finally {
      raw.close();
      await store.close();
    }
  });

  it("cleanupExpired reports how many rows it removed", async () => {
    const store = await createSqliteStateStore({
      connectionString: ":memory:",
      cleanupInterval: "0",
    });
    await store.bulkSet([
      { key: "a", value: 1, metadata: { ttlInSeconds: "1" } },
      { key: "b", value: 1, metadata: { ttlInSeconds: "1" } },
      { key: "c", value: 1 },
    ]);
    expect(await store.cleanupExpired()).toBe(0);
    await sleep(1100);
    expect(await store.cleanupExpired()).toBe(2);
    expect((await store.get({ key: "c" })).data).not.toBeNull();
    await store.close();
  });
});

describe("query and keysLike details", () => {
  it("sorts descending, pages with a token and ignores values that are not JSON", async () => {
    const store = await createSqliteStateStore({ connectionString: ":memory:" });
    for (let i = 0; i < 5; i++)
      await store.set({ key: `doc${i}`, value: { n: i, tag: i % 2 === 0 ? "even" : "odd" } });
    await store.set({ key: "text", value: toBytes("not json") });
    await store.set({ key: "bytes", value: new Uint8Array([0xff]) });
    const first = await store.query({
      query: {
        filter: { EQ: { tag: "even" } },
        sort: [{ key: "n", order: "DESC" }],
        page: { limit: 2 },
      },
    });
    expect(first.results.map((r) => r.key)).toEqual(["doc4", "doc2"]);
    expect(first.token).toBeDefined();
    const second = await store.query({
      query: {
        filter: { EQ: { tag: "even" } },
        sort: [{ key: "n", order: "DESC" }],
        page: { limit: 2, token: first.token as string },
      },
    });
    expect(second.results.map((r) => r.key)).toEqual(["doc0"]);
    expect(second.token).toBeUndefined();
    const all = await store.query({ query: { filter: { GTE: { n: 3 } } } });
    expect(all.results.map((r) => r.key)).toEqual(["doc3", "doc4"]);
    expect(all.results[0]?.etag).toMatch(/^[0-9a-f-]{36}$/);
    expect(await codeOf(store.query({ query: { page: { limit: 1, token: "nope" } } }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    expect(await codeOf(store.query({ query: { filter: { LIKE: { n: 1 } } as never } }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    await store.close();
  });

  it("matches keys case-sensitively", async () => {
    const store = await createSqliteStateStore({ connectionString: ":memory:" });
    await store.bulkSet([
      { key: "abc1", value: 1 },
      { key: "ABC2", value: 1 },
      { key: "a*c", value: 1 },
    ]);
    expect((await store.keysLike({ pattern: "abc%" })).keys).toEqual(["abc1"]);
    expect((await store.keysLike({ pattern: "A%" })).keys).toEqual(["ABC2"]);
    expect((await store.keysLike({ pattern: "a*c" })).keys).toEqual(["a*c"]);
    expect(await codeOf(store.keysLike({ pattern: "%", continuationToken: "***" }))).toBe(
      "ERR_INVALID_REQUEST",
    );
    await store.close();
  });
});

describe("lifecycle", () => {
  it("rejects operations after close with ERR_CLOSED", async () => {
    const store = await createSqliteStateStore({ connectionString: ":memory:" });
    await store.ping();
    await store.close();
    await store.close();
    expect(await codeOf(store.get({ key: "k" }))).toBe("ERR_CLOSED");
    expect(await codeOf(store.set({ key: "k", value: 1 }))).toBe("ERR_CLOSED");
    expect(await codeOf(store.ping())).toBe("ERR_CLOSED");
  });

  it("a failed transaction leaves nothing behind", async () => {
    const store = await createSqliteStateStore({ connectionString: ":memory:" });
    await store.set({ key: "guarded", value: 1 });
    const err = await store
      .transact({
        operations: [
          { operation: "upsert", request: { key: "new", value: 1 } },
          { operation: "delete", request: { key: "guarded", etag: "stale" } },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ETagError);
    expect((await store.get({ key: "new" })).data).toBeNull();
    expect((await store.get({ key: "guarded" })).data).not.toBeNull();
    await store.close();
  });
});
