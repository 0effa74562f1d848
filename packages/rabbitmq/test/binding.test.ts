import { randomUUID } from "node:crypto";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { type BindingEvent, utf8 } from "@outrig/core";
import amqp from "amqplib";
import { describe, expect, it } from "vitest";
import { createRabbitMQBinding, type RabbitMQBinding } from "../src/binding.ts";

const rabbitmq = useService(() => startRabbitMQ());
const queue = (): string => `binding-test-${randomUUID().slice(0, 8)}`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function collect(binding: RabbitMQBinding, events: BindingEvent[]): Promise<void> {
  await binding.read(async (event) => {
    events.push(event);
    return null;
  });
}

describe("bindings.rabbitmq", () => {
  it("declares the queue with Dapr's flags: durable, auto-delete, TTL and max priority", async () => {
    const name = queue();
    const binding = await createRabbitMQBinding({
      host: rabbitmq().url,
      queueName: name,
      durable: "true",
      ttlInSeconds: "60",
      maxPriority: "5",
    });
    const connection = await amqp.connect(rabbitmq().url);
    const ch = await connection.createChannel();
    ch.on("error", () => {});
    // Re-declaring with the same arguments succeeds; different ones would close the channel.
    await ch.assertQueue(name, {
      durable: true,
      autoDelete: false,
      arguments: { "x-message-ttl": 60_000, "x-max-priority": 5 },
    });
    await ch.deleteQueue(name);
    await connection.close();
    await binding.close();
  });

  it("a message whose ttlInSeconds passed before anyone read it is dropped; headers and priority arrive", async () => {
    const name = queue();
    const metadata = {
      host: rabbitmq().url,
      queueName: name,
      maxPriority: "9",
      deleteWhenUnused: "true",
    };
    const output = await createRabbitMQBinding(metadata);
    await output.invoke({
      operation: "create",
      data: bytes("expires"),
      metadata: { ttlInSeconds: "1" },
    });
    await output.invoke({
      operation: "create",
      data: bytes("stays"),
      metadata: { priority: "7", "x-trace": "t-1", contentType: "application/json" },
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const input = await createRabbitMQBinding(metadata);
    const events: BindingEvent[] = [];
    await collect(input, events);
    await waitUntil(() => events.length >= 1, 5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(events.map((e) => utf8(e.data))).toEqual(["stays"]);
    expect(events[0]?.metadata).toMatchObject({ "x-trace": "t-1", priority: "7" });
    expect(events[0]?.contentType).toBe("application/json");
    await input.close();
    await output.close();
  });

  it("rejects a bad ttl or priority, missing metadata, and an unreachable broker", async () => {
    const output = await createRabbitMQBinding({
      host: rabbitmq().url,
      queueName: queue(),
      deleteWhenUnused: "true",
    });
    await expect(
      output.invoke({ operation: "create", data: bytes("x"), metadata: { ttlInSeconds: "soon" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await expect(
      output.invoke({ operation: "create", data: bytes("x"), metadata: { priority: "300" } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await output.close();
    await expect(createRabbitMQBinding({ host: rabbitmq().url })).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    await expect(
      createRabbitMQBinding({ host: "amqp://guest:guest@127.0.0.1:1", queueName: "q" }),
    ).rejects.toMatchObject({ code: "ERR_UNAVAILABLE" });
  });
});
