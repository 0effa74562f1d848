import { randomUUID } from "node:crypto";
import { startKafka, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { type BindingEvent, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createKafkaBinding } from "../src/binding.ts";

const kafka = useService(() => startKafka());
const id = (): string => `binding-test-${randomUUID().slice(0, 8)}`;

describe("bindings.kafka", () => {
  it("create sends key and headers; read gets them with topic, partition and offset", async () => {
    const topic = id();
    const brokers = kafka().brokers.join(",");
    const binding = await createKafkaBinding({
      brokers,
      topics: topic,
      publishTopic: topic,
      consumerGroup: id(),
      initialOffset: "oldest",
    });
    const events: BindingEvent[] = [];
    await binding.read(async (event) => {
      events.push(event);
      return null;
    });
    await binding.invoke({
      operation: "create",
      data: new TextEncoder().encode("hello"),
      metadata: { key: "customer-7", "x-trace": "t-1" },
    });
    await waitUntil(() => events.length === 1, 20_000);
    const [event] = events;
    expect(utf8(event?.data as Uint8Array)).toBe("hello");
    expect(event?.metadata).toMatchObject({
      topic,
      key: "customer-7",
      "x-trace": "t-1",
      partition: "0",
      offset: "0",
    });
    await binding.close();
  });

  it("rejects metadata without topics or publishTopic, read without topics, and unreachable brokers", async () => {
    await expect(createKafkaBinding({ brokers: kafka().brokers.join(",") })).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    const output = await createKafkaBinding({
      brokers: kafka().brokers.join(","),
      publishTopic: id(),
    });
    await expect(output.read(async () => null)).rejects.toMatchObject({
      code: "ERR_INVALID_REQUEST",
    });
    await output.close();
    await expect(
      createKafkaBinding({ brokers: "127.0.0.1:1", publishTopic: "t" }),
    ).rejects.toMatchObject({ code: "ERR_UNAVAILABLE" });
  }, 60_000);
});
