import { waitUntil } from "@outrig/conformance/testing";
import type { PubSub, PubSubDefinition } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { sharedMemoryManifest } from "../src/shared-memory-pubsub.ts";

const definition = sharedMemoryManifest.components.find(
  (c) => c.type === "pubsub.in-memory",
) as PubSubDefinition;

function collector(pubsub: PubSub, topic: string) {
  const seen: string[] = [];
  const done = pubsub.subscribe({ topic }, async (message) => {
    seen.push(Buffer.from(message.data).toString());
  });
  return { seen, done };
}

describe("pubsub.in-memory shared by the sidecars of one process", () => {
  it("delivers a message published through one sidecar to another's subscription", async () => {
    const name = `pubsub-${Math.random()}`;
    const orders = await definition.create({}, { name, appId: "orders" });
    const shipping = await definition.create({}, { name, appId: "shipping" });
    const received = collector(shipping, "orders");
    await received.done;
    await orders.publish({ topic: "orders", data: Buffer.from("order-1") });
    await waitUntil(() => received.seen.length > 0, 2_000, "order-1 on shipping's subscription", 5);
    expect(received.seen).toEqual(["order-1"]);

    // Closing one sidecar's handle ends its subscriptions but leaves the broker to the other.
    await shipping.close();
    await expect(
      shipping.publish({ topic: "orders", data: Buffer.from("late") }),
    ).rejects.toMatchObject({
      code: "ERR_CLOSED",
    });
    const own = collector(orders, "orders");
    await own.done;
    await orders.publish({ topic: "orders", data: Buffer.from("order-2") });
    await waitUntil(() => own.seen.length > 0, 2_000, "order-2 on orders' own subscription", 5);
    expect(own.seen).toEqual(["order-2"]);
    expect(received.seen).toEqual(["order-1"]);
    await orders.close();
  });

  it("keeps components with different names apart, and closes the broker with its last user", async () => {
    const a = await definition.create({}, { name: `a-${Math.random()}` });
    const b = await definition.create({}, { name: `b-${Math.random()}` });
    const onB = collector(b, "t");
    await onB.done;
    await a.publish({ topic: "t", data: Buffer.from("x") });
    await new Promise((r) => setTimeout(r, 50));
    expect(onB.seen).toEqual([]);
    await a.close();
    await expect(a.publish({ topic: "t", data: Buffer.from("y") })).rejects.toThrow();
    await b.close();
  });
});
