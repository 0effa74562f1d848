import { randomUUID } from "node:crypto";
import { startMosquitto, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { ComponentError, type PubSubMessage } from "@outrig/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMqttPubSub, type MqttPubSub, mqttOptions } from "../src/index.ts";

const mosquitto = useService(() => startMosquitto());

const open: MqttPubSub[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.allSettled(open.splice(0).map((p) => p.close()));
});

const unique = (name: string): string => `mqtt-${name}-${randomUUID().slice(0, 8)}`;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function create(metadata: Record<string, string>): Promise<MqttPubSub> {
  const pubsub = await createMqttPubSub({ url: mosquitto().url, ...metadata });
  open.push(pubsub);
  return pubsub;
}

function signal(): AbortSignal {
  const a = new AbortController();
  aborts.push(a);
  return a.signal;
}

describe("options", () => {
  it("applies Dapr's defaults and requires url", () => {
    expect(mqttOptions.parse({ url: "tcp://localhost:1883" })).toMatchObject({
      qos: 1,
      retain: false,
      cleanSession: false,
      backOffMaxRetries: 0,
    });
    expect(() => mqttOptions.parse({ qos: "3" })).toThrowError(
      /url: is required.*qos: must be <= 2/,
    );
    expect(mqttOptions.redact({ url: "tcp://u:p@h", clientKey: "k", qos: "1" })).toEqual({
      url: "***",
      clientKey: "***",
      qos: "1",
    });
  });

  it("fails fast with ERR_UNAVAILABLE when the broker cannot be reached", async () => {
    await expect(
      createMqttPubSub({ url: "tcp://127.0.0.1:1", consumerID: "x" }),
    ).rejects.toMatchObject({
      code: "ERR_UNAVAILABLE",
    });
  });
});

describe("sessions", () => {
  it("cleanSession=false: messages published while the subscriber is away arrive when it comes back", async () => {
    const topic = unique("away");
    const consumerID = unique("c");
    const first = await create({ consumerID });
    const stop = new AbortController();
    await first.subscribe({ topic, signal: stop.signal }, async () => {});
    await first.close();

    const publisher = await create({ consumerID: unique("p") });
    for (const n of [1, 2, 3]) await publisher.publish({ topic, data: text(`queued-${n}`) });

    const got: string[] = [];
    const second = await create({ consumerID });
    await second.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(decode(m.data));
    });
    await waitUntil(() => got.length === 3, 10_000);
    expect(got).toEqual(["queued-1", "queued-2", "queued-3"]);
  });

  it("cleanSession=true: what is published while the subscriber is away is gone", async () => {
    const topic = unique("clean");
    const consumerID = unique("c");
    const first = await create({ consumerID, cleanSession: "true" });
    await first.subscribe({ topic, signal: signal() }, async () => {});
    await first.close();
    const publisher = await create({ consumerID: unique("p") });
    await publisher.publish({ topic, data: text("lost") });

    const got: string[] = [];
    const second = await create({ consumerID, cleanSession: "true" });
    await second.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(decode(m.data));
    });
    await publisher.publish({ topic, data: text("live") });
    await waitUntil(() => got.includes("live"), 10_000);
    expect(got).toEqual(["live"]);
  });

  it("acknowledges only after the handler: a message whose handler never finished comes back to the same consumer ID", async () => {
    const topic = unique("crash");
    const consumerID = unique("c");
    const crashed = await create({ consumerID });
    let started = false;
    let release: () => void = () => {};
    await crashed.subscribe({ topic, signal: signal() }, async () => {
      started = true;
      await new Promise<void>((r) => {
        release = r;
      });
    });
    const publisher = await create({ consumerID: unique("p") });
    await publisher.publish({ topic, data: text("in-flight") });
    await waitUntil(() => started, 10_000);
    // close() waits a grace period for the handler, then disconnects without PUBACK.
    await crashed.close();
    release();

    const got: string[] = [];
    const restarted = await create({ consumerID });
    await restarted.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(decode(m.data));
    });
    await waitUntil(() => got.includes("in-flight"), 10_000);
    expect(got).toEqual(["in-flight"]);
  }, 30_000);
});

describe("delivery", () => {
  it("delivers a retained message to a later subscriber, marked retained", async () => {
    const topic = unique("retain");
    const publisher = await create({ consumerID: unique("p"), retain: "true" });
    await publisher.publish({ topic, data: text("last-known") });
    const got: PubSubMessage[] = [];
    const subscriber = await create({ consumerID: unique("s") });
    await subscriber.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(m);
    });
    await waitUntil(() => got.length === 1, 10_000);
    expect(decode((got[0] as PubSubMessage).data)).toBe("last-known");
    expect((got[0] as PubSubMessage).metadata).toEqual({ retained: "true" });
    // Clear the retained message (an empty retained publish deletes it).
    await publisher.publish({ topic, data: new Uint8Array(0), metadata: { retain: "true" } });
  });

  it("backOffMaxRetries=-1 retries in-process and keeps order: nothing overtakes a failing message", async () => {
    const topic = unique("order");
    const pubsub = await create({
      consumerID: unique("c"),
      backOffMaxRetries: "-1",
      backOffInitialInterval: "20ms",
    });
    const seen: string[] = [];
    let failures = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      const body = decode(m.data);
      seen.push(body);
      if (body === "1" && failures < 3) {
        failures++;
        throw new Error("not yet");
      }
    });
    for (const n of ["1", "2", "3"]) await pubsub.publish({ topic, data: text(n) });
    await waitUntil(() => seen.includes("3"), 10_000);
    expect(seen).toEqual(["1", "1", "1", "1", "2", "3"]);
  });

  it("backOffMaxRetries=0 (Dapr's default) re-publishes a failed message to its topic, so it comes back after later ones", async () => {
    const topic = unique("republish");
    const pubsub = await create({ consumerID: unique("c") });
    const seen: string[] = [];
    let failed = false;
    let secondPublished: () => void = () => {};
    const second = new Promise<void>((r) => {
      secondPublished = r;
    });
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      const body = decode(m.data);
      seen.push(body);
      if (body === "1" && !failed) {
        failed = true;
        // Fail only once "2" is at the broker, so the re-published copy queues behind it.
        await second;
        throw new Error("fail once");
      }
    });
    await pubsub.publish({ topic, data: text("1") });
    await pubsub.publish({ topic, data: text("2") });
    secondPublished();
    await waitUntil(() => seen.length === 3, 10_000);
    expect(seen).toEqual(["1", "2", "1"]);
  });

  it("QoS 0 still redelivers a failed message from the process", async () => {
    const topic = unique("qos0");
    const pubsub = await create({
      consumerID: unique("c"),
      qos: "0",
      backOffMaxRetries: "2",
      backOffInitialInterval: "10ms",
    });
    let attempts = 0;
    await pubsub.subscribe({ topic, signal: signal() }, async () => {
      attempts++;
      if (attempts < 3) throw new Error("fail");
    });
    await pubsub.publish({ topic, data: text("x") });
    await waitUntil(() => attempts === 3, 10_000);
    await sleep(300);
    expect(attempts).toBe(3);
  });

  it("matches + and # wildcards and reports the concrete topic", async () => {
    const root = unique("wild");
    const pubsub = await create({ consumerID: unique("c") });
    const plus: string[] = [];
    const hash: string[] = [];
    await pubsub.subscribe({ topic: `${root}/+/temp`, signal: signal() }, async (m) => {
      plus.push(m.topic);
    });
    await pubsub.subscribe({ topic: `${root}/#`, signal: signal() }, async (m) => {
      hash.push(m.topic);
    });
    await pubsub.publish({ topic: `${root}/kitchen/temp`, data: text("21") });
    await pubsub.publish({ topic: `${root}/kitchen/humidity`, data: text("40") });
    await waitUntil(() => hash.length === 2 && plus.length === 1, 10_000);
    await sleep(200);
    expect(plus).toEqual([`${root}/kitchen/temp`]);
    expect(hash.sort()).toEqual([`${root}/kitchen/humidity`, `${root}/kitchen/temp`]);
  });

  it("rejects publishing to a wildcard filter and malformed ttlInSeconds as invalid requests", async () => {
    const pubsub = await create({ consumerID: unique("c") });
    await expect(pubsub.publish({ topic: "a/+/b", data: text("x") })).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    await expect(
      pubsub.publish({ topic: unique("t"), data: text("x"), metadata: { ttlInSeconds: "x" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
  });

  it("declares wildcards and ordering, and rejects bulk operations with ERR_NOT_SUPPORTED", async () => {
    const pubsub = await create({ consumerID: unique("c") });
    expect([...pubsub.capabilities].sort()).toEqual(["ORDERING", "SUBSCRIBE_WILDCARDS"]);
    const error = await pubsub.bulkPublish({ topic: "t", entries: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
  });

  it("refuses to subscribe without a consumer ID", async () => {
    const pubsub = await create({});
    await expect(
      pubsub.subscribe({ topic: unique("t"), signal: signal() }, async () => {}),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
  });
});
