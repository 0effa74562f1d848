import { randomUUID } from "node:crypto";
import { startRedis, useService } from "@outrig/conformance/services";
import { ComponentError, utf8 } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { createRedisPubSub, createRedisStateStore } from "../src/index.ts";

// A restart needs a container of its own, even when OUTRIG_TEST_REDIS_URL points at a shared server.
const redis = useService(() => startRedis({ container: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "resolved",
    (error: unknown) =>
      error instanceof ComponentError ? error.code : `not a ComponentError: ${String(error)}`,
  );
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

describe("state.redis while the server restarts", () => {
  it("fails fast with ERR_UNAVAILABLE while Redis is down and works again once it is back", async () => {
    const store = await createRedisStateStore({
      redisHost: `${redis().host}:${redis().port}`,
      maxRetryBackoff: "200ms",
    });
    const key = `${randomUUID()}-reconnect`;
    try {
      await store.set({ key, value: "before" });
      await redis().stopTemporarily();

      const started = Date.now();
      const codes = await Promise.all([
        codeOf(store.get({ key })),
        codeOf(store.set({ key, value: "during" })),
        codeOf(store.bulkGet([{ key }, { key: `${key}-2` }]).then(() => undefined)),
        codeOf(store.keysLike({ pattern: `${key}%` })),
        codeOf(store.ping()),
      ]);
      expect(codes).toEqual(Array(5).fill("ERR_UNAVAILABLE"));
      // Not a timed benchmark: a bound far above a fast failure, far below a hang.
      expect(Date.now() - started).toBeLessThan(10_000);

      await redis().start();
      const back = await eventually(
        async () => (await codeOf(store.ping())) === "resolved",
        20_000,
      );
      expect(back, "the store must reconnect on its own once Redis is back").toBe(true);
      // The container lost its data (no persistence); the store must simply work again.
      await store.set({ key, value: "after" });
      expect(utf8((await store.get({ key })).data!)).toBe('"after"');
    } finally {
      await store.close();
    }
  });

  it("fails fast with ERR_UNAVAILABLE across a full restart and reconnects afterwards", async () => {
    const store = await createRedisStateStore({ redisHost: redis().url, maxRetryBackoff: "200ms" });
    const key = `${randomUUID()}-restart`;
    try {
      await store.set({ key, value: 1 });
      const restarting = redis().restart();
      let done = false;
      restarting.then(() => {
        done = true;
      });
      // Issue a call every 50 ms without waiting for the previous one: a call in flight when the
      // server goes away may wait for the reconnect, but a call made while it is down must fail.
      const outcomes: Promise<string>[] = [];
      const deadline = Date.now() + 60_000;
      while (!done && Date.now() < deadline) {
        outcomes.push(codeOf(store.get({ key }).then(() => undefined)));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await restarting;
      const seen = new Set(await Promise.all(outcomes));
      // A call already in flight when the server vanished may end by its command timeout instead:
      // still bounded, never a hang. Anything else (an unmapped error) fails.
      for (const code of seen)
        expect(["resolved", "ERR_UNAVAILABLE", "ERR_TIMEOUT"]).toContain(code);
      expect(
        seen.has("ERR_UNAVAILABLE"),
        `outcomes seen during the restart: ${[...seen].join(", ")}`,
      ).toBe(true);
      const back = await eventually(
        async () => (await codeOf(store.ping())) === "resolved",
        20_000,
      );
      expect(back).toBe(true);
      await store.set({ key, value: 2 });
      expect(utf8((await store.get({ key })).data!)).toBe("2");
    } finally {
      await store.close();
    }
  });

  it("pubsub: publishes fail fast while Redis is down, and a subscription keeps receiving once it is back", async () => {
    const pubsub = await createRedisPubSub({
      redisHost: redis().url,
      consumerID: `reconnect-${randomUUID().slice(0, 8)}`,
      maxRetryBackoff: "200ms",
      processingTimeout: "1s",
      redeliverInterval: "200ms",
    });
    const topic = `${randomUUID()}-topic`;
    const received: string[] = [];
    const controller = new AbortController();
    try {
      await pubsub.subscribe({ topic, signal: controller.signal }, async (m) => {
        received.push(utf8(m.data));
      });
      await pubsub.publish({ topic, data: new TextEncoder().encode("before") });
      expect(await eventually(async () => received.includes("before"), 10_000)).toBe(true);

      await redis().stopTemporarily();
      const started = Date.now();
      expect(
        await codeOf(pubsub.publish({ topic, data: new TextEncoder().encode("during") })),
      ).toBe("ERR_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(10_000);
      await redis().start();

      const back = await eventually(
        async () =>
          (await codeOf(pubsub.publish({ topic, data: new TextEncoder().encode("after") }))) ===
          "resolved",
        30_000,
      );
      expect(back, "publishing must work again once Redis is back").toBe(true);
      expect(
        await eventually(async () => received.includes("after"), 30_000),
        `the subscription must resume on its own; received ${JSON.stringify(received)}`,
      ).toBe(true);
    } finally {
      controller.abort();
      await pubsub.close();
    }
  });
});
