import { createServer } from "node:net";
import {
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { imageEnvVar, SERVICE_IMAGES } from "@outrig/conformance/services";
import { BulkError, ComponentError, ConfigError, ETagError, utf8 } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { createDynamoDBStateStore } from "../src/index.ts";
import { startRecordingProxy } from "./proxy.ts";
import { clientFor, createTestTable, useDynamoDB } from "./service.ts";

const dynamodb = await useDynamoDB();
const table = await createTestTable(dynamodb);
const client = clientFor(dynamodb);
const store = await createDynamoDBStateStore({ ...table.metadata, ttlAttributeName: "expiresAt" });
const run = `r${Date.now().toString(36)}`;
const k = (suffix: string) => `${run}-${suffix}`;

afterAll(async () => {
  await store.close();
  client.destroy();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("item layout (Dapr's)", () => {
  it("writes key, value, etag and the expiry in epoch seconds; bytes that are not UTF-8 as binary", async () => {
    const before = Math.floor(Date.now() / 1000);
    await store.set({ key: k("layout"), value: { a: 1 }, metadata: { ttlInSeconds: "60" } });
    await store.set({ key: k("binary"), value: new Uint8Array([0xff, 0x01]) });
    const raw = await client.send(
      new GetItemCommand({ TableName: table.name, Key: { key: { S: k("layout") } } }),
    );
    expect(raw.Item?.value).toEqual({ S: '{"a":1}' });
    expect(raw.Item?.etag?.S).toMatch(/^[0-9a-f-]{36}$/);
    const expiresAt = Number(raw.Item?.expiresAt?.N);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60);
    expect(expiresAt).toBeLessThanOrEqual(before + 62);
    const bin = await client.send(
      new GetItemCommand({ TableName: table.name, Key: { key: { S: k("binary") } } }),
    );
    expect([...(bin.Item?.value?.B ?? [])]).toEqual([0xff, 0x01]);
    expect(bin.Item?.expiresAt).toBeUndefined();
  });

  it("keeps bytes as B even when they are UTF-8, and reads items Dapr wrote with their kind", async () => {
    await store.set({ key: k("utf8-bytes"), value: new TextEncoder().encode('{"a":1}') });
    const raw = await client.send(
      new GetItemCommand({ TableName: table.name, Key: { key: { S: k("utf8-bytes") } } }),
    );
    expect(raw.Item?.value?.S).toBeUndefined();
    expect(utf8(raw.Item?.value?.B as Uint8Array)).toBe('{"a":1}');
    // As daprd writes them: `<appid>||<key>`, the JSON text in S, a random hex etag.
    const daprKey = `dapr-app||${k("from-dapr")}`;
    await client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          key: { S: daprKey },
          value: { S: '{"name":"zed"}' },
          etag: { S: "1f2e3d4c5b6a7988" },
        },
      }),
    );
    const got = await store.get({ key: daprKey });
    expect([got.kind, got.etag, JSON.parse(utf8(got.data as Uint8Array))]).toEqual([
      "json",
      "1f2e3d4c5b6a7988",
      { name: "zed" },
    ]);
    expect(await store.getValue(daprKey)).toEqual({ name: "zed" });
    expect((await store.get({ key: k("utf8-bytes") })).kind).toBe("bytes");
  });
});

describe("expired items DynamoDB has not deleted yet", () => {
  it("are hidden from reads, satisfy first-write and match no etag", async () => {
    const past = String(Math.floor(Date.now() / 1000) - 5);
    for (const suffix of ["expired-a", "expired-b"]) {
      await client.send(
        new PutItemCommand({
          TableName: table.name,
          Item: {
            key: { S: k(suffix) },
            value: { S: '"old"' },
            etag: { S: "e-old" },
            expiresAt: { N: past },
          },
        }),
      );
    }
    expect((await store.get({ key: k("expired-a") })).data).toBeNull();
    const items = await store.bulkGet([{ key: k("expired-a") }, { key: k("expired-b") }]);
    expect(items.map((i) => [i.key, i.data, i.error])).toEqual([
      [k("expired-a"), null, ""],
      [k("expired-b"), null, ""],
    ]);
    expect(
      await rejectionOf(store.set({ key: k("expired-a"), value: "new", etag: "e-old" })),
    ).toBeInstanceOf(ETagError);
    expect(await rejectionOf(store.delete({ key: k("expired-a"), etag: "e-old" }))).toBeInstanceOf(
      ETagError,
    );
    await store.set({
      key: k("expired-b"),
      value: "fresh",
      options: { concurrency: "first-write" },
    });
    expect(utf8((await store.get({ key: k("expired-b") })).data as Uint8Array)).toBe('"fresh"');
  });
});

describe("bulk operations", () => {
  it("bulkSet batches plain items (more than one BatchWriteItem) and writes items with an etag one by one", async () => {
    const plain = Array.from({ length: 60 }, (_, i) => ({ key: k(`bulk-${i}`), value: i }));
    await store.bulkSet(plain);
    const guarded = await store.get({ key: k("bulk-0") });
    const error = await rejectionOf(
      store.bulkSet([
        { key: k("bulk-0"), value: "guarded", etag: guarded.etag as string },
        { key: k("bulk-1"), value: "stale", etag: "not-the-etag" },
        { key: k("bulk-2"), value: "dup-first" },
        { key: k("bulk-2"), value: "dup-last" },
        { key: k("bulk-3"), value: "bad", metadata: { ttlInSeconds: "soon" } },
      ]),
    );
    expect(error).toBeInstanceOf(BulkError);
    expect((error as BulkError).errors.map((e) => [e.key, e.code]).sort()).toEqual([
      [k("bulk-1"), "ERR_ETAG_MISMATCH"],
      [k("bulk-3"), "ERR_INVALID_REQUEST"],
    ]);
    const got = await store.bulkGet([
      ...plain.map(({ key }) => ({ key })),
      { key: k("bulk-0") },
      { key: k("bulk-missing") },
    ]);
    expect(got).toHaveLength(62);
    const value = (key: string) => {
      const item = got.find((i) => i.key === key);
      return item?.data ? JSON.parse(utf8(item.data)) : null;
    };
    expect(value(k("bulk-0"))).toBe("guarded");
    expect(value(k("bulk-1"))).toBe(1);
    expect(value(k("bulk-2"))).toBe("dup-last");
    expect(value(k("bulk-59"))).toBe(59);
    expect(value(k("bulk-missing"))).toBeNull();
    expect(got.every((i) => i.error === "")).toBe(true);
  });

  it("bulkGet reads more than 100 keys (several BatchGetItem calls) and repeats duplicates", async () => {
    const keys = Array.from({ length: 130 }, (_, i) => k(`many-${i}`));
    await store.bulkSet(keys.map((key, i) => ({ key, value: i })));
    const got = await store.bulkGet(
      [...keys, keys[0] as string].map((key) => ({ key })),
      { parallelism: 2 },
    );
    expect(got).toHaveLength(131);
    expect(got.filter((i) => i.data !== null)).toHaveLength(131);
    await store.bulkDelete(keys.map((key) => ({ key })));
    const after = await store.bulkGet(keys.map((key) => ({ key })));
    expect(after.filter((i) => i.data !== null)).toEqual([]);
  });
});

describe("transactions", () => {
  it(`rejects more than 100 distinct keys with ERR_INVALID_REQUEST and writes nothing`, async () => {
    const error = await rejectionOf(
      store.transact({
        operations: Array.from({ length: 101 }, (_, i) => ({
          operation: "upsert" as const,
          request: { key: k(`tx-limit-${i}`), value: i },
        })),
      }),
    );
    if (store.capabilities.has("TRANSACTIONAL")) {
      expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
      expect((error as ComponentError).message).toMatch(/at most 100 distinct keys.*touches 101/);
    } else {
      expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
    }
    expect((await store.get({ key: k("tx-limit-0") })).data).toBeNull();
  });

  it("declares TRANSACTIONAL exactly when the endpoint implements TransactWriteItems", async () => {
    const probe = await client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: table.name,
                Item: { key: { S: k("tx-probe") }, value: { S: "1" } },
              },
            },
          ],
        }),
      )
      .then(
        () => true,
        (error: unknown) => (error as Error).name !== "UnknownOperationException",
      );
    expect(store.capabilities.has("TRANSACTIONAL")).toBe(probe);
    expect(store.maxTransactionSize).toBe(probe ? 100 : undefined);
    // The default test image (moto) implements TransactWriteItems: were the probe to stop seeing
    // it, the transaction tests would silently take their not-supported branches instead.
    const image = process.env[imageEnvVar("dynamodb")] ?? SERVICE_IMAGES.dynamodb.local;
    if (!process.env.OUTRIG_TEST_DYNAMODB_ENDPOINT && image === SERVICE_IMAGES.dynamodb.local) {
      expect(store.capabilities.has("TRANSACTIONAL")).toBe(true);
    }
  });

  it("folds repeated operations on one key (150 operations on 50 keys), the last one winning", async () => {
    const operations = Array.from({ length: 150 }, (_, i) => ({
      operation: "upsert" as const,
      request: { key: k(`tx-fold-${i % 50}`), value: i },
    }));
    if (!store.capabilities.has("TRANSACTIONAL")) {
      // An endpoint without TransactWriteItems (e.g. dynalite): the store must refuse, not half-apply.
      const error = await rejectionOf(store.transact({ operations }));
      expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
      expect((await store.get({ key: k("tx-fold-0") })).data).toBeNull();
      return;
    }
    await store.transact({ operations });
    const got = await store.bulkGet(
      Array.from({ length: 50 }, (_, i) => ({ key: k(`tx-fold-${i}`) })),
    );
    expect(got.map((i) => JSON.parse(utf8(i.data as Uint8Array)))).toEqual(
      Array.from({ length: 50 }, (_, i) => 100 + i),
    );
  });
});

describe("configuration and failures", () => {
  it("fails to start when the table does not exist or has another hash key", async () => {
    const missing = await rejectionOf(
      createDynamoDBStateStore({ ...table.metadata, table: `${table.name}-missing` }),
    );
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).issues[0]?.field).toBe("table");
    const wrongKey = await rejectionOf(
      createDynamoDBStateStore({ ...table.metadata, partitionKey: "id" }),
    );
    expect(wrongKey).toBeInstanceOf(ConfigError);
    expect((wrongKey as ConfigError).issues[0]?.field).toBe("partitionKey");
  });

  it("maps a refused connection to ERR_UNAVAILABLE with the cause", async () => {
    const port = await freePort();
    const error = await rejectionOf(
      createDynamoDBStateStore({ ...table.metadata, endpoint: `http://127.0.0.1:${port}` }),
    );
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_UNAVAILABLE");
    expect((error as ComponentError).message).toMatch(/ECONNREFUSED/);
    expect((error as ComponentError).cause).toBeDefined();
  });

  it("rejects ttlInSeconds when no ttlAttributeName is configured, and closes idempotently", async () => {
    const plain = await createDynamoDBStateStore(table.metadata);
    expect(plain.capabilities.has("TTL")).toBe(false);
    expect(store.capabilities.has("TTL")).toBe(true);
    const error = await rejectionOf(
      plain.set({ key: k("no-ttl"), value: 1, metadata: { ttlInSeconds: "5" } }),
    );
    expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
    await plain.ping();
    await plain.close();
    await plain.close();
    expect(((await rejectionOf(plain.get({ key: k("x") }))) as ComponentError).code).toBe(
      "ERR_CLOSED",
    );
  });
});

describe("requests as sent (through a recording proxy in front of the service)", async () => {
  const proxy = await startRecordingProxy(dynamodb.endpoint);
  const proxied = await createDynamoDBStateStore(
    { ...table.metadata, endpoint: proxy.endpoint, ttlAttributeName: "expiresAt" },
    {},
    { clientConfig: { maxAttempts: 2 } },
  );
  afterAll(() => proxied.close());
  const sent = (operation: string) =>
    proxy.requests.filter((r) => r.operation === operation).map((r) => r.body);

  it("strong consistency reads with ConsistentRead; eventual does not", async () => {
    proxy.requests.length = 0;
    await proxied.get({ key: k("cr"), options: { consistency: "strong" } });
    await proxied.get({ key: k("cr") });
    await proxied.bulkGet([
      { key: k("cr"), options: { consistency: "strong" } },
      { key: k("cr2") },
    ]);
    await proxied.bulkGet([{ key: k("cr") }]);
    expect(sent("GetItem").map((b) => b.ConsistentRead)).toEqual([true, false]);
    expect(
      sent("BatchGetItem").map(
        (b) =>
          (b.RequestItems as Record<string, { ConsistentRead: boolean }>)[table.name]
            ?.ConsistentRead,
      ),
    ).toEqual([true, false]);
  });

  it("first-write and etag writes carry their conditions", async () => {
    proxy.requests.length = 0;
    await proxied.set({ key: k("cond"), value: 1, options: { concurrency: "first-write" } });
    const { etag } = await proxied.get({ key: k("cond") });
    await proxied.set({ key: k("cond"), value: 2, etag: etag as string });
    expect(sent("PutItem").map((b) => b.ConditionExpression)).toEqual([
      "attribute_not_exists(#pk) OR #ttl <= :now",
      "#etag = :etag AND (attribute_not_exists(#ttl) OR #ttl > :now)",
    ]);
  });

  it("throttling that outlasts the SDK's retries surfaces as ERR_UNAVAILABLE with the cause", async () => {
    proxy.fail = {
      operations: new Set(["GetItem", "PutItem"]),
      status: 400,
      type: "ProvisionedThroughputExceededException",
    };
    try {
      const error = (await rejectionOf(proxied.get({ key: k("throttled") }))) as ComponentError;
      expect(error.code).toBe("ERR_UNAVAILABLE");
      expect((error.cause as Error).name).toBe("ProvisionedThroughputExceededException");
      proxy.fail = { operations: new Set(["PutItem"]), status: 400, type: "ThrottlingException" };
      expect(
        ((await rejectionOf(proxied.set({ key: k("throttled"), value: 1 }))) as ComponentError)
          .code,
      ).toBe("ERR_UNAVAILABLE");
    } finally {
      proxy.fail = undefined;
    }
  });

  it("re-sends the items and keys DynamoDB leaves unprocessed until all are done", async () => {
    proxy.requests.length = 0;
    proxy.unprocessOnce = 2;
    await proxied.bulkSet(
      Array.from({ length: 20 }, (_, i) => ({ key: k(`retry-${i}`), value: i })),
    );
    // 20 items → 10 sent, 10 back; 10 → 5 and 5; then the last 5 in one go.
    expect(
      sent("BatchWriteItem").map(
        (b) => (b.RequestItems as Record<string, unknown[]>)[table.name]?.length,
      ),
    ).toEqual([20, 10, 5]);
    proxy.unprocessOnce = 1;
    const got = await proxied.bulkGet(
      Array.from({ length: 20 }, (_, i) => ({ key: k(`retry-${i}`) })),
    );
    expect(sent("BatchGetItem")).toHaveLength(2);
    expect(got.map((i) => (i.data ? JSON.parse(utf8(i.data)) : null))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(got.every((i) => i.error === "")).toBe(true);
  });

  it("reports items still unprocessed after every attempt as per-key ERR_UNAVAILABLE", async () => {
    const limited = await createDynamoDBStateStore(
      { ...table.metadata, endpoint: proxy.endpoint },
      {},
      { batchRetry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } },
    );
    try {
      proxy.unprocessOnce = 2;
      const error = (await rejectionOf(
        limited.bulkSet(Array.from({ length: 4 }, (_, i) => ({ key: k(`giveup-${i}`), value: i }))),
      )) as BulkError;
      expect(error).toBeInstanceOf(BulkError);
      // 4 → 2 written, 2 back; 2 → 1 written, 1 back; no third attempt.
      expect(error.errors.map((e) => [e.key, e.code])).toEqual([
        [k("giveup-3"), "ERR_UNAVAILABLE"],
      ]);
      expect((await limited.get({ key: k("giveup-2") })).data).not.toBeNull();
    } finally {
      proxy.unprocessOnce = 0;
      await limited.close();
    }
  });
});
