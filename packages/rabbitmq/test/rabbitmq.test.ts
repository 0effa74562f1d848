import { randomUUID } from "node:crypto";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { ComponentError, type PubSubMessage } from "@outrig/core";
import amqp from "amqplib";
import { afterEach, describe, expect, it } from "vitest";
import { createRabbitMQPubSub, type RabbitMQPubSub, rabbitmqOptions } from "../src/index.ts";

const rabbit = useService(() => startRabbitMQ());

const open: RabbitMQPubSub[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.allSettled(open.splice(0).map((p) => p.close()));
});

const unique = (name: string): string => `rmq-${name}-${randomUUID().slice(0, 8)}`;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

async function create(metadata: Record<string, string>, appId?: string): Promise<RabbitMQPubSub> {
  const pubsub = await createRabbitMQPubSub(
    { connectionString: rabbit().url, ...metadata },
    appId ? { appId } : {},
  );
  open.push(pubsub);
  return pubsub;
}

function signal(): AbortSignal {
  const a = new AbortController();
  aborts.push(a);
  return a.signal;
}

async function withRawChannel<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(rabbit().url);
  try {
    const ch = await conn.createChannel();
    return await fn(ch);
  } finally {
    await conn.close();
  }
}

describe("options", () => {
  it("applies Dapr's defaults except publisher confirms, which outrig turns on", () => {
    const o = rabbitmqOptions.parse({ connectionString: "amqp://localhost" });
    expect(o).toMatchObject({
      durable: false,
      deletedWhenUnused: true,
      autoAck: false,
      deliveryMode: 0,
      requeueInFailure: false,
      prefetchCount: 0,
      concurrencyMode: "parallel",
      enableDeadLetter: false,
      exchangeKind: "fanout",
      publisherConfirm: true,
      reconnectWait: 3000,
    });
  });

  it("reports every invalid field at once and redacts secrets", () => {
    let error: unknown;
    try {
      rabbitmqOptions.parse({
        connectionString: "amqp://x",
        deliveryMode: "7",
        concurrencyMode: "many",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_CONFIG_INVALID");
    expect((error as ComponentError).message).toMatch(/deliveryMode/);
    expect((error as ComponentError).message).toMatch(/concurrencyMode/);
    expect(
      rabbitmqOptions.redact({ host: "amqp://u:p@h", password: "p", durable: "true" }),
    ).toEqual({
      host: "***",
      password: "***",
      durable: "true",
    });
  });

  it("rejects a component without any address", async () => {
    await expect(createRabbitMQPubSub({ durable: "true" })).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
  });

  it("fails fast with ERR_UNAVAILABLE when the broker cannot be reached", async () => {
    await expect(
      createRabbitMQPubSub({ connectionString: "amqp://guest:guest@127.0.0.1:1" }),
    ).rejects.toMatchObject({ code: "ERR_UNAVAILABLE" });
  });
});

describe("topology", () => {
  it("names the queue <consumerID>-<topic>, falling back to the app id, bound to a fanout exchange", async () => {
    const topic = unique("naming");
    const appId = unique("app");
    const pubsub = await create({ deletedWhenUnused: "false" }, appId);
    await pubsub.subscribe({ topic, signal: signal() }, async () => {});
    const queue = await withRawChannel((ch) => ch.checkQueue(`${appId}-${topic}`));
    expect(queue.consumerCount).toBe(1);
    await withRawChannel(async (ch) => {
      await ch.checkExchange(topic);
      await ch.deleteQueue(`${appId}-${topic}`);
    });
  });

  it("uses the subscription's queueName metadata instead", async () => {
    const topic = unique("qname");
    const queueName = unique("explicit");
    const pubsub = await create({ consumerID: "unused" });
    const got: string[] = [];
    await pubsub.subscribe({ topic, metadata: { queueName }, signal: signal() }, async (m) => {
      got.push(decode(m.data));
    });
    await withRawChannel((ch) => ch.checkQueue(queueName));
    await pubsub.publish({ topic, data: text("via-explicit-queue") });
    await waitUntil(() => got.length === 1, 10_000);
    expect(got).toEqual(["via-explicit-queue"]);
  });

  it("refuses to subscribe without a consumer ID or queue name", async () => {
    const pubsub = await create({});
    await expect(
      pubsub.subscribe({ topic: unique("noid"), signal: signal() }, async () => {}),
    ).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
  });

  it("sets queue arguments from maxLen, maxLenBytes and the dead-letter switch", async () => {
    const topic = unique("args");
    const consumerID = unique("c");
    const pubsub = await create({
      consumerID,
      maxLen: "2",
      maxLenBytes: "100000",
      enableDeadLetter: "true",
      deletedWhenUnused: "false",
    });
    const got: string[] = [];
    const stop = new AbortController();
    await pubsub.subscribe({ topic, signal: stop.signal }, async (m) => {
      got.push(decode(m.data));
    });
    stop.abort();
    await new Promise((r) => setTimeout(r, 300));
    // With x-max-length 2 and no consumer, the oldest messages are dropped (and dead-lettered).
    for (const n of [1, 2, 3, 4]) await pubsub.publish({ topic, data: text(`m${n}`) });
    const queue = `${consumerID}-${topic}`;
    const depth = await withRawChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
    expect(depth).toBe(2);
    const dlq = await withRawChannel(
      async (ch) => (await ch.checkQueue(`dlq-${queue}`)).messageCount,
    );
    expect(dlq).toBe(2);
    await withRawChannel(async (ch) => {
      await ch.deleteQueue(queue);
      await ch.deleteQueue(`dlq-${queue}`);
      await ch.deleteExchange(`dlx-${queue}`);
    });
  });
});

describe("delivery", () => {
  it("carries metadata as headers, the content type, and message properties both ways", async () => {
    const topic = unique("props");
    const pubsub = await create({ consumerID: unique("c") });
    const got: PubSubMessage[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(m);
    });
    await pubsub.publish({
      topic,
      data: new Uint8Array([0, 1, 2, 255]),
      contentType: "application/octet-stream",
      metadata: {
        traceparent: "00-abc-def-01",
        messageID: "id-1",
        correlationID: "corr-1",
        ttlInSeconds: "60",
      },
    });
    await waitUntil(() => got.length === 1, 10_000);
    const m = got[0] as PubSubMessage;
    expect([...m.data]).toEqual([0, 1, 2, 255]);
    expect(m.topic).toBe(topic);
    expect(m.contentType).toBe("application/octet-stream");
    expect(m.metadata).toMatchObject({
      traceparent: "00-abc-def-01",
      messageID: "id-1",
      correlationID: "corr-1",
    });
    expect(m.metadata).not.toHaveProperty("ttlInSeconds");
  });

  it("rejects a malformed ttlInSeconds or priority as an invalid request", async () => {
    const pubsub = await create({ consumerID: unique("c") });
    await expect(
      pubsub.publish({ topic: unique("bad"), data: text("x"), metadata: { ttlInSeconds: "soon" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await expect(
      pubsub.publish({ topic: unique("bad"), data: text("x"), metadata: { priority: "999" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
  });

  it("with requeueInFailure=false and a dead-letter exchange, a failed message goes to dlq-<queue> and is not redelivered", async () => {
    const topic = unique("dlx");
    const consumerID = unique("c");
    const pubsub = await create({
      consumerID,
      enableDeadLetter: "true",
      deletedWhenUnused: "false",
    });
    let calls = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      calls++;
      throw new Error("handler failed");
    });
    await pubsub.publish({ topic, data: text("poison"), metadata: { reason: "test" } });
    const queue = `${consumerID}-${topic}`;
    const dead = await withRawChannel(async (ch) => {
      const end = Date.now() + 10_000;
      while (Date.now() < end) {
        const msg = await ch.get(`dlq-${queue}`, { noAck: true });
        if (msg) return msg;
        await new Promise((r) => setTimeout(r, 50));
      }
      return undefined;
    });
    expect(dead?.content.toString()).toBe("poison");
    expect(dead?.properties.headers?.reason).toBe("test");
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(1);
    await withRawChannel(async (ch) => {
      await ch.deleteQueue(queue);
      await ch.deleteQueue(`dlq-${queue}`);
      await ch.deleteExchange(`dlx-${queue}`);
    });
  });

  it("with requeueInFailure=false and no dead-letter exchange, a failed message is dropped (Dapr's default)", async () => {
    const topic = unique("drop");
    const pubsub = await create({ consumerID: unique("c") });
    const seen: string[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      seen.push(decode(m.data));
      if (decode(m.data) === "bad") throw new Error("handler failed");
    });
    await pubsub.publish({ topic, data: text("bad") });
    await pubsub.publish({ topic, data: text("good") });
    await waitUntil(() => seen.includes("good"), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.filter((s) => s === "bad")).toHaveLength(1);
  });

  it("concurrencyMode=single hands messages over one at a time in queue order", async () => {
    const topic = unique("single");
    const pubsub = await create({ consumerID: unique("c"), concurrencyMode: "single" });
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(Number(decode(m.data)));
      active--;
    });
    for (let i = 0; i < 20; i++) await pubsub.publish({ topic, data: text(String(i)) });
    await waitUntil(() => order.length === 20, 10_000);
    expect(maxActive).toBe(1);
    expect(order).toEqual([...Array(20).keys()]);
  });

  it("concurrencyMode=parallel runs handlers concurrently, bounded by prefetchCount", async () => {
    const topic = unique("parallel");
    const pubsub = await create({ consumerID: unique("c"), prefetchCount: "4" });
    let active = 0;
    let maxActive = 0;
    let done = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 50));
      active--;
      done++;
    });
    for (let i = 0; i < 12; i++) await pubsub.publish({ topic, data: text(String(i)) });
    await waitUntil(() => done === 12, 10_000);
    expect(maxActive).toBeGreaterThan(1);
    expect(maxActive).toBeLessThanOrEqual(4);
  });

  it("autoAck loses a failed message: it is never delivered again", async () => {
    const topic = unique("autoack");
    const pubsub = await create({
      consumerID: unique("c"),
      autoAck: "true",
      requeueInFailure: "true",
    });
    let calls = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      calls++;
      throw new Error("fail");
    });
    await pubsub.publish({ topic, data: text("once") });
    await waitUntil(() => calls === 1, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(1);
  });

  it("undeclared bulk operations reject with ERR_NOT_SUPPORTED", async () => {
    const pubsub = await create({ consumerID: unique("c") });
    expect([...pubsub.capabilities]).toEqual(["MESSAGE_TTL"]);
    await expect(pubsub.bulkPublish({ topic: "t", entries: [] })).rejects.toMatchObject({
      code: "ERR_NOT_SUPPORTED",
    });
  });
});
