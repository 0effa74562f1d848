import { randomUUID } from "node:crypto";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createRabbitMQPubSub, type RabbitMQPubSub } from "../src/index.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const unique = (name: string): string => `rmq-${name}-${randomUUID().slice(0, 8)}`;

const open: RabbitMQPubSub[] = [];
const stop = new AbortController();
afterAll(async () => {
  stop.abort();
  await Promise.allSettled(open.map((p) => p.close()));
});

describe("reconnect", () => {
  const broker = useService(() => startRabbitMQ({ container: true }));

  it("publishes and keeps its subscription after the broker restarts", async () => {
    const topic = unique("restart");
    const pubsub = await createRabbitMQPubSub({
      connectionString: broker().url,
      consumerID: unique("c"),
      durable: "true",
      deletedWhenUnused: "false",
      deliveryMode: "2",
      reconnectWait: "500ms",
    });
    open.push(pubsub);
    const got = new Set<string>();
    await pubsub.subscribe({ topic, signal: stop.signal }, async (m) => {
      got.add(decode(m.data));
    });
    await pubsub.publish({ topic, data: text("before") });
    await waitUntil(() => got.has("before"), 10_000);

    await broker().restart();

    // The first publishes may race the reconnect; publish retries on a fresh channel.
    await pubsub.publish({ topic, data: text("after") });
    await waitUntil(() => got.has("after"), 30_000);
    await expect(pubsub.ping()).resolves.toBeUndefined();
  }, 120_000);
});
