import { randomUUID } from "node:crypto";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createRabbitMQBinding } from "../src/binding.ts";

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("bindings.rabbitmq reconnect", () => {
  const broker = useService(() => startRabbitMQ({ container: true }));

  it("publishes again and the reader resumes after the broker restarts", async () => {
    const metadata = {
      host: broker().url,
      queueName: `binding-restart-${randomUUID().slice(0, 8)}`,
      durable: "true",
      reconnectWait: "500ms",
    };
    const output = await createRabbitMQBinding(metadata);
    const input = await createRabbitMQBinding(metadata);
    const got = new Set<string>();
    await input.read(async (event) => {
      got.add(utf8(event.data));
      return null;
    });
    await output.invoke({ operation: "create", data: new TextEncoder().encode("before") });
    await waitFor(() => got.has("before"), 10_000);

    await broker().restart();

    // Invokes may race the reconnect (and the broker can drop a connection once more while it
    // finishes booting), so one is sent every 500 ms until the resumed reader gets one of them.
    const deadline = Date.now() + 45_000;
    let sent = 0;
    while (![...got].some((m) => m.startsWith("after-"))) {
      if (Date.now() > deadline)
        throw new Error(`the reader never resumed (${sent} invokes confirmed)`);
      try {
        await output.invoke({
          operation: "create",
          data: new TextEncoder().encode(`after-${sent}`),
        });
        sent++;
      } catch {
        // not reconnected yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    await expect(input.ping()).resolves.toBeUndefined();
    await input.close();
    await output.close();
  }, 120_000);
});
