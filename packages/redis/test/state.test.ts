import { randomUUID } from "node:crypto";
import { startRedis, useService } from "@outrig/conformance/services";
import { BulkError, type ComponentError, ConfigError, ETagError, utf8 } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStateStore, type RedisStateStore } from "../src/index.ts";

const redis = useService(() => startRedis());
const run = randomUUID().replaceAll("-", "");
let store: RedisStateStore;

beforeAll(async () => {
  store = await createRedisStateStore({ redisHost: redis().url });
});
afterAll(async () => {
  await store?.close();
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

describe("state.redis items", () => {
  it("keeps bytes verbatim and JSON-encodes everything else", async () => {
    await store.set({ key: key("bytes"), value: new Uint8Array([0, 255, 1]) });
    await store.set({ key: key("string"), value: '{"a":"b"}' });
    expect([...((await store.get({ key: key("bytes") })).data ?? [])]).toEqual([0, 255, 1]);
    expect(utf8((await store.get({ key: key("string") })).data!)).toBe('"{\\"a\\":\\"b\\"}"');
  });

  it("stores items as Dapr's {data, version} hashes with integer versions", async () => {
    await store.set({ key: key("layout"), value: { n: 1 } });
    const hash = await store.client.hgetall(key("layout"));
    expect(Object.keys(hash).sort()).toEqual(["data", "version"]);
    expect(hash.data).toBe('{"n":1}');
    expect(hash.version).toMatch(/^\d+$/);
    expect((await store.get({ key: key("layout") })).etag).toBe(hash.version);
  });

  it("increments the version on update and never reuses an ETag after delete and re-create", async () => {
    const k = key("aba");
    await store.set({ key: k, value: 1 });
    const first = (await store.get({ key: k })).etag!;
    await store.set({ key: k, value: 2 });
    expect((await store.get({ key: k })).etag).toBe(String(BigInt(first) + 1n));
    await store.delete({ key: k });
    await store.set({ key: k, value: 3 });
    const again = (await store.get({ key: k })).etag!;
    expect(again).not.toBe(first);
    const stale = await rejectionOf(store.set({ key: k, value: 4, etag: first }));
    expect(stale).toBeInstanceOf(ETagError);
  });

  it("rejects a non-integer ETag as invalid and a stale one as mismatch", async () => {
    const k = key("etag");
    await store.set({ key: k, value: "v" });
    const invalid = await rejectionOf(store.set({ key: k, value: "w", etag: "not-a-number" }));
    expect((invalid as ETagError).kind).toBe("invalid");
    const mismatch = await rejectionOf(store.delete({ key: k, etag: "9999999" }));
    expect((mismatch as ETagError).kind).toBe("mismatch");
    const missing = await rejectionOf(store.set({ key: key("etag-missing"), value: 1, etag: "1" }));
    expect((missing as ETagError).kind).toBe("mismatch");
  });

  it("first-write inserts only when the key is absent", async () => {
    const k = key("first");
    await store.set({ key: k, value: "v1", options: { concurrency: "first-write" } });
    const error = await rejectionOf(
      store.set({ key: k, value: "v2", options: { concurrency: "first-write" } }),
    );
    expect((error as ETagError).kind).toBe("mismatch");
    expect(utf8((await store.get({ key: k })).data!)).toBe('"v1"');
  });
});

describe("state.redis TTL", () => {
  it("returns ttlExpireTime read in the same round trip, and -1 or no ttl removes it", async () => {
    const k = key("ttl");
    const before = Date.now();
    await store.set({ key: k, value: 1, metadata: { ttlInSeconds: "3600" } });
    const expiry = Date.parse((await store.get({ key: k })).metadata?.ttlExpireTime ?? "");
    expect(expiry).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 3_600_000);
    await store.set({ key: k, value: 2, metadata: { ttlInSeconds: "-1" } });
    expect((await store.get({ key: k })).metadata?.ttlExpireTime).toBeUndefined();
    expect(await store.client.ttl(k)).toBe(-1);
    await store.set({ key: k, value: 3, metadata: { ttlInSeconds: "100" } });
    await store.set({ key: k, value: 4 });
    expect(await store.client.ttl(k)).toBe(-1);
  });

  it("applies the component's ttlInSeconds default when a request has none", async () => {
    const withDefault = await createRedisStateStore({ redisHost: redis().url, ttlInSeconds: "50" });
    try {
      await withDefault.set({ key: key("default-ttl"), value: 1 });
      const ttl = await store.client.ttl(key("default-ttl"));
      expect(ttl).toBeGreaterThan(40);
      expect(ttl).toBeLessThanOrEqual(50);
      await withDefault.set({
        key: key("default-ttl"),
        value: 1,
        metadata: { ttlInSeconds: "-1" },
      });
      expect(await store.client.ttl(key("default-ttl"))).toBe(-1);
    } finally {
      await withDefault.close();
    }
  });

  it("rejects a non-integer ttlInSeconds", async () => {
    const error = await rejectionOf(
      store.set({ key: key("bad-ttl"), value: 1, metadata: { ttlInSeconds: "foo" } }),
    );
    expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
  });
});

describe("state.redis bulk", () => {
  it("applies each item on its own and reports only the failed ones", async () => {
    await store.set({ key: key("b1"), value: "old" });
    const etag = (await store.get({ key: key("b1") })).etag!;
    const error = await rejectionOf(
      store.bulkSet([
        { key: key("b1"), value: "new", etag },
        { key: key("b2"), value: "x", etag: "12345" },
        { key: key("b3"), value: "y", etag: "bad" },
        { key: key("b4"), value: "z" },
      ]),
    );
    expect(error).toBeInstanceOf(BulkError);
    const failed = (error as BulkError).errors.map((e) => [e.key, e.etagError()?.kind]);
    expect(failed.sort()).toEqual([
      [key("b2"), "mismatch"],
      [key("b3"), "invalid"],
    ]);
    const items = await store.bulkGet([{ key: key("b1") }, { key: key("b4") }, { key: key("b2") }]);
    expect(items.map((i) => [i.key, i.data ? utf8(i.data) : null, i.error])).toEqual([
      [key("b1"), '"new"', ""],
      [key("b4"), '"z"', ""],
      [key("b2"), null, ""],
    ]);
  });

  it("sends a bulk operation as one pipeline, not one round trip per key", async () => {
    const keys = Array.from({ length: 50 }, (_, i) => key(`pipe-${i}`));
    await store.bulkSet(keys.map((k) => ({ key: k, value: k })));
    // Each pipeline flushes its commands in one write; count socket writes during bulkGet.
    const stream = (store.client as unknown as { stream: { write: (...a: unknown[]) => boolean } })
      .stream;
    const original = stream.write.bind(stream);
    let writes = 0;
    stream.write = (...args: unknown[]) => {
      writes++;
      return original(...args);
    };
    try {
      const items = await store.bulkGet(keys.map((k) => ({ key: k })));
      expect(
        items.every((item, i) => item.data && utf8(item.data) === JSON.stringify(keys[i])),
      ).toBe(true);
    } finally {
      stream.write = original;
    }
    expect(writes).toBeLessThanOrEqual(2);
  });

  it("bulkDelete reports stale ETags per key and deletes the rest", async () => {
    await store.bulkSet([
      { key: key("d1"), value: 1 },
      { key: key("d2"), value: 2 },
    ]);
    const error = await rejectionOf(
      store.bulkDelete([{ key: key("d1") }, { key: key("d2"), etag: "42" }]),
    );
    expect((error as BulkError).errors.map((e) => e.key)).toEqual([key("d2")]);
    expect((await store.get({ key: key("d1") })).data).toBeNull();
    expect((await store.get({ key: key("d2") })).data).not.toBeNull();
  });
});

describe("state.redis transactions", () => {
  it("applies operations in order", async () => {
    const [k1, k2, k3] = [key("t1"), key("t2"), key("t3")];
    await store.set({ key: k1, value: "v1" });
    await store.transact({
      operations: [
        { operation: "delete", request: { key: k1 } },
        { operation: "upsert", request: { key: k2, value: "v2" } },
        { operation: "delete", request: { key: k2 } },
        { operation: "upsert", request: { key: k3, value: "value3" } },
      ],
    });
    expect((await store.get({ key: k1 })).data).toBeNull();
    expect((await store.get({ key: k2 })).data).toBeNull();
    expect(utf8((await store.get({ key: k3 })).data!)).toBe('"value3"');
  });

  it("writes nothing when a later operation fails its ETag check", async () => {
    const [a, b] = [key("ta"), key("tb")];
    await store.set({ key: b, value: "kept" });
    const error = await rejectionOf(
      store.transact({
        operations: [
          { operation: "upsert", request: { key: a, value: "written?" } },
          { operation: "delete", request: { key: b, etag: "777" } },
        ],
      }),
    );
    expect((error as ETagError).kind).toBe("mismatch");
    expect((error as ETagError).message).toContain(b);
    expect((await store.get({ key: a })).data).toBeNull();
    expect(utf8((await store.get({ key: b })).data!)).toBe('"kept"');
  });

  it("checks an ETag against the version an earlier operation of the same transaction leaves", async () => {
    const k = key("tchain");
    await store.set({ key: k, value: 0 });
    const etag = (await store.get({ key: k })).etag!;
    const next = String(BigInt(etag) + 1n);
    await store.transact({
      operations: [
        { operation: "upsert", request: { key: k, value: 1, etag } },
        { operation: "upsert", request: { key: k, value: 2, etag: next } },
      ],
    });
    const res = await store.get({ key: k });
    expect(utf8(res.data!)).toBe("2");
    expect(res.etag).toBe(String(BigInt(etag) + 2n));
  });

  it("sets TTLs per operation", async () => {
    const k = key("tttl");
    await store.transact({
      operations: [
        { operation: "upsert", request: { key: k, value: 1, metadata: { ttlInSeconds: "60" } } },
      ],
    });
    expect((await store.get({ key: k })).metadata?.ttlExpireTime).toBeDefined();
  });
});

describe("state.redis keysLike and deleteWithPrefix", () => {
  it("treats Redis glob characters in keys and patterns literally", async () => {
    const base = key("glob");
    const keys = [`${base}[a]`, `${base}?x`, `${base}*y`, `${base}\\z`, `${base}ab`, `${base}é`];
    await store.bulkSet(keys.map((k) => ({ key: k, value: 1 })));
    const like = async (pattern: string) => (await store.keysLike({ pattern })).keys.sort();
    expect(await like(`${base}[%`)).toEqual([`${base}[a]`]);
    expect(await like(`${base}?%`)).toEqual([`${base}?x`]);
    expect(await like(`${base}*%`)).toEqual([`${base}*y`]);
    expect(await like(`${base}\\\\%`)).toEqual([`${base}\\z`]);
    // `_` is one character, even when that character takes several bytes.
    expect(await like(`${base}_`)).toEqual([`${base}é`]);
    expect(await like(`${base}__`)).toEqual(
      [`${base}*y`, `${base}?x`, `${base}\\z`, `${base}ab`].sort(),
    );
  });

  it("pages with a token and returns every key once, also across deletes", async () => {
    const base = key("page");
    const keys = Array.from({ length: 40 }, (_, i) => `${base}-${String(i).padStart(2, "0")}`);
    await store.bulkSet(keys.map((k) => ({ key: k, value: 1 })));
    const first = await store.keysLike({ pattern: `${base}-%`, pageSize: 7 });
    expect(first.keys).toHaveLength(7);
    // Between pages, delete one key already returned and one not returned yet.
    const unseen = keys.find((k) => !first.keys.includes(k))!;
    await store.bulkDelete([{ key: first.keys[0]! }, { key: unseen }]);
    const seen = [...first.keys];
    let token = first.continuationToken;
    while (token) {
      const page = await store.keysLike({
        pattern: `${base}-%`,
        pageSize: 7,
        continuationToken: token,
      });
      expect(page.keys.length).toBeLessThanOrEqual(7);
      seen.push(...page.keys);
      token = page.continuationToken;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(keys.filter((k) => k !== unseen).sort());
  });

  it("rejects a malformed continuation token", async () => {
    const error = await rejectionOf(store.keysLike({ pattern: "%", continuationToken: "???" }));
    expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
  });

  it("deletes only direct children of the prefix and counts them", async () => {
    const p = key("dwp");
    await store.bulkSet(
      [`${p}||a`, `${p}||b`, `${p}||c||d`, `${p}x||a`, `${p}`].map((k) => ({ key: k, value: 1 })),
    );
    expect(await store.deleteWithPrefix({ prefix: p })).toEqual({ count: 2 });
    const left = (await store.keysLike({ pattern: `${p}%` })).keys.sort();
    expect(left).toEqual([p, `${p}x||a`, `${p}||c||d`].sort());
  });

  it("ignores keys that are not state items", async () => {
    const k = key("plain-string");
    await store.client.set(k, "not a hash");
    expect((await store.keysLike({ pattern: `${k}%` })).keys).toEqual([]);
  });
});

describe("state.redis configuration", () => {
  it("reports every invalid field at once", async () => {
    const error = await rejectionOf(
      createRedisStateStore({
        redisHost: "a:b:c",
        redisDB: "x",
        redisType: "cluster",
        queryIndexes: "[]",
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).issues.map((i) => i.field);
    expect(fields).toContain("redisDB");
  });

  it("rejects settings it cannot honour", async () => {
    const cases: Record<string, string>[] = [
      { redisHost: "127.0.0.1:6379", redisType: "cluster" },
      { redisHost: "127.0.0.1:6379", failover: "true" },
      { redisHost: "127.0.0.1:6379", queryIndexes: '[{"indexName":"x"}]' },
      { redisHost: "not a host" },
    ];
    for (const metadata of cases) {
      const error = await rejectionOf(createRedisStateStore(metadata));
      expect((error as ComponentError).code, JSON.stringify(metadata)).toBe("ERR_CONFIG_INVALID");
    }
  });

  it("fails init with ERR_UNAVAILABLE, quickly, when nothing listens", async () => {
    const started = Date.now();
    const error = await rejectionOf(
      createRedisStateStore({ redisHost: "127.0.0.1:1", dialTimeout: "2s" }),
    );
    expect((error as ComponentError).code).toBe("ERR_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("selects the configured database", async () => {
    const other = await createRedisStateStore({ redisHost: redis().url, redisDB: "5" });
    try {
      await other.set({ key: key("db5"), value: 5 });
      expect((await store.get({ key: key("db5") })).data).toBeNull();
      expect(utf8((await other.get({ key: key("db5") })).data!)).toBe("5");
    } finally {
      await other.close();
    }
  });

  it("rejects calls after close with ERR_CLOSED", async () => {
    const closing = await createRedisStateStore({ redisHost: redis().url });
    await closing.close();
    await closing.close();
    const error = await rejectionOf(closing.get({ key: key("closed") }));
    expect((error as ComponentError).code).toBe("ERR_CLOSED");
  });
});
