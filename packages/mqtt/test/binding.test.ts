import { randomUUID } from "node:crypto";
import { startMosquitto, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { type BindingEvent, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createMqttBinding, type MqttBinding } from "../src/binding.ts";

const mosquitto = useService(() => startMosquitto());
const id = (): string => `binding-${randomUUID().slice(0, 8)}`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function collect(binding: MqttBinding, events: BindingEvent[]): Promise<void> {
  await binding.read(async (event) => {
    events.push(event);
    return null;
  });
}

describe("bindings.mqtt3", () => {
  it("a wildcard topic reads every matching topic, with the concrete topic in metadata", async () => {
    const root = id();
    const input = await createMqttBinding({
      url: mosquitto().url,
      topic: `${root}/+`,
      consumerID: id(),
    });
    const output = await createMqttBinding({
      url: mosquitto().url,
      topic: `${root}/a`,
      consumerID: id(),
    });
    const events: BindingEvent[] = [];
    await collect(input, events);
    await output.invoke({ operation: "create", data: bytes("to a") });
    await output.invoke({
      operation: "create",
      data: bytes("to b"),
      metadata: { topic: `${root}/b` },
    });
    await waitUntil(() => events.length === 2, 5_000);
    expect(events.map((e) => [e.metadata.topic, utf8(e.data)]).sort()).toEqual([
      [`${root}/a`, "to a"],
      [`${root}/b`, "to b"],
    ]);
    await expect(
      output.invoke({ operation: "create", data: bytes("x"), metadata: { topic: `${root}/#` } }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_REQUEST" });
    await input.close();
    await output.close();
  });

  it("retain keeps the last message for a reader that comes later, marked retained", async () => {
    const topic = id();
    const output = await createMqttBinding({
      url: mosquitto().url,
      topic,
      retain: "true",
      consumerID: id(),
    });
    await output.invoke({ operation: "create", data: bytes("kept") });
    const input = await createMqttBinding({ url: mosquitto().url, topic, consumerID: id() });
    const events: BindingEvent[] = [];
    await collect(input, events);
    await waitUntil(() => events.length === 1, 5_000);
    expect(events[0]?.metadata.retained).toBe("true");
    // Clear the retained message.
    await output.invoke({
      operation: "create",
      data: new Uint8Array(),
      metadata: { retain: "true" },
    });
    await input.close();
    await output.close();
  });

  it("with cleanSession=false, messages sent while the reader is away arrive when it returns", async () => {
    const topic = id();
    const consumerID = id();
    const metadata = { url: mosquitto().url, topic, consumerID };
    const first = await createMqttBinding(metadata);
    await collect(first, []);
    await first.close();
    const output = await createMqttBinding({ ...metadata, consumerID: id() });
    await output.invoke({ operation: "create", data: bytes("while away") });
    const second = await createMqttBinding(metadata);
    const events: BindingEvent[] = [];
    await collect(second, events);
    await waitUntil(() => events.length === 1, 5_000);
    expect(utf8(events[0]?.data as Uint8Array)).toBe("while away");
    await second.close();
    await output.close();
  });

  it("rejects missing metadata and an unreachable broker", async () => {
    await expect(createMqttBinding({ url: mosquitto().url })).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    await expect(createMqttBinding({ url: "tcp://127.0.0.1:1", topic: "t" })).rejects.toMatchObject(
      {
        code: "ERR_UNAVAILABLE",
      },
    );
  });
});
