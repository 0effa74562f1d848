import { randomUUID } from "node:crypto";
import { startRedis, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { type ComponentError, ConfigError, type PubSubMessage, utf8 } from "@outrig/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPubSub, type RedisPubSub } from "../src/index.ts";

const redis = useService(() => startRedis());
const run = randomUUID().slice(0, 8);
let raw: Redis;
const opened: RedisPubSub[] = [];
const controllers: AbortController[] = [];

beforeAll(async () => {
  raw = new Redis(redis().url);
});
afterAll(async () => {
  for (const c of controllers) c.abort();
  await Promise.allSettled(opened.map((p) => p.close()));
  raw?.disconnect();
});

async function open(metadata: Record<string, string> = {}, appId?: string): Promise<RedisPubSub> {
  const pubsub = await createRedisPubSub(
    {
      redisHost: redis().url,
      consumerID: `g-${run}`,
      redeliverInterval: "200ms",
      processingTimeout: "500ms",
      ...metadata,
    },
    appId ? { appId } : {},
  );
  opened.push(pubsub);
  return pubsub;
}

function signal(): AbortSignal {
  const controller = new AbortController();
  controllers.push(controller);
  return controller.signal;
}

describe("pubsub.redis stream entries", () => {
  it("writes data, metadata and contentType as entry fields", async () => {
    const pubsub = await open();
    const topic = `${run}-layout`;
    await pubsub.publish({
      topic,
      data: new Uint8Array([0, 255]),
      metadata: { traceparent: "00-abc-def-01" },
      contentType: "application/octet-stream",
    });
    const entries = await raw.xrangeBuffer(topic, "-", "+");
    expect(entries).toHaveLength(1);
    const fields = entries[0]![1].map((b) => b.toString("latin1"));
    expect(fields[0]).toBe("data");
    expect([...Buffer.from(fields[1]!, "latin1")]).toEqual([0, 255]);
    expect(fields.slice(2)).toEqual([
      "metadata",
      '{"traceparent":"00-abc-def-01"}',
      "contentType",
      "application/octet-stream",
    ]);
  });

  it("delivers entries another publisher wrote with only a data field (Dapr's form)", async () => {
    const pubsub = await open();
    const topic = `${run}-foreign`;
    await raw.xadd(topic, "*", "data", "from dapr");
    const received: PubSubMessage[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      received.push(m);
    });
    await waitUntil(() => received.length === 1, 15_000, "the foreign entry");
    expect(utf8(received[0]!.data)).toBe("from dapr");
    expect(received[0]!.metadata).toEqual({});
    expect(received[0]!.topic).toBe(topic);
  });

  it("trims the stream to about maxLenApprox entries", async () => {
    const pubsub = await open({ maxLenApprox: "100" });
    const topic = `${run}-trim`;
    const response = await pubsub.bulkPublish({
      topic,
      entries: Array.from({ length: 1000 }, (_, i) => ({
        entryId: String(i),
        event: new Uint8Array([i % 256]),
      })),
    });
    expect(response.failedEntries).toEqual([]);
    const length = await raw.xlen(topic);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(400);
  });

  it("trims entries older than streamTTL, a whole stream node at a time (MINID ~)", async () => {
    const pubsub = await open({ streamTTL: "1s" });
    const topic = `${run}-stream-ttl`;
    const pipeline = raw.pipeline();
    for (let i = 0; i < 150; i++) pipeline.xadd(topic, "*", "data", String(i));
    await pipeline.exec();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await pubsub.publish({ topic, data: new Uint8Array([1]) });
    const length = await raw.xlen(topic);
    expect(length).toBeGreaterThan(1);
    expect(length).toBeLessThan(151);
  });

  it("bulkPublish reports entries the server rejected", async () => {
    const pubsub = await open();
    const topic = `${run}-not-a-stream`;
    await raw.set(topic, "a plain string");
    const response = await pubsub.bulkPublish({
      topic,
      entries: [
        { entryId: "a", event: new Uint8Array([1]) },
        { entryId: "b", event: new Uint8Array([2]) },
      ],
    });
    expect(response.failedEntries.map((f) => f.entryId)).toEqual(["a", "b"]);
    expect(response.failedEntries[0]!.error).toContain("WRONGTYPE");
  });
});

describe("pubsub.redis delivery", () => {
  it("acknowledges after the handler resolves; a failed message stays pending and is reclaimed", async () => {
    const pubsub = await open();
    const topic = `${run}-redeliver`;
    let attempts = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      attempts++;
      if (attempts === 1) throw new Error("first attempt fails");
    });
    await pubsub.publish({ topic, data: new Uint8Array([1]) });
    await waitUntil(() => attempts === 1, 15_000, "the first attempt");
    const pending = async () => ((await raw.xpending(topic, `g-${run}`)) as [number])[0];
    await waitUntil(
      async () => (await pending()) === 1,
      15_000,
      "the failed message to be pending",
    );
    await waitUntil(() => attempts === 2, 15_000, "the reclaimed delivery");
    await waitUntil(async () => (await pending()) === 0, 15_000, "the acknowledgement");
  });

  it("runs at most `concurrency` handlers at once", async () => {
    const pubsub = await open({ concurrency: "3" });
    const topic = `${run}-concurrency`;
    let active = 0;
    let peak = 0;
    let done = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 100));
      active--;
      done++;
    });
    await pubsub.bulkPublish({
      topic,
      entries: Array.from({ length: 12 }, (_, i) => ({
        entryId: String(i),
        event: new Uint8Array([i]),
      })),
    });
    await waitUntil(() => done === 12, 15_000, "all 12 messages");
    expect(peak).toBe(3);
  });

  it("uses the app ID as the consumer group when consumerID is absent, and requires one of them", async () => {
    const appId = `app-${run}`;
    const pubsub = await createRedisPubSub({ redisHost: redis().url }, { appId });
    opened.push(pubsub);
    const topic = `${run}-group`;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {});
    const groups = (await raw.xinfo("GROUPS", topic)) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual([appId]);

    const error = await createRedisPubSub({ redisHost: redis().url }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.field).toBe("consumerID");
  });

  it("removes its consumer from the group when a subscription ends with nothing pending", async () => {
    const pubsub = await open();
    const topic = `${run}-consumers`;
    const controller = new AbortController();
    await pubsub.subscribe({ topic, signal: controller.signal }, async () => {});
    const consumers = async () =>
      ((await raw.xinfo("CONSUMERS", topic, `g-${run}`)) as unknown[]).length;
    expect(await consumers()).toBe(1);
    controller.abort();
    await waitUntil(async () => (await consumers()) === 0, 15_000, "the consumer to be removed");
  });

  it("rejects a publish while Redis is unreachable with ERR_UNAVAILABLE", async () => {
    const pubsub = await open();
    pubsub.client.disconnect();
    const error = await pubsub.publish({ topic: `${run}-down`, data: new Uint8Array([1]) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as ComponentError).code).toBe("ERR_UNAVAILABLE");
  });
});
