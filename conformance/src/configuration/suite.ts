import { randomUUID } from "node:crypto";
import { ComponentError, type ConfigurationStore } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Collector } from "./collector.ts";
import type { ConfigurationConformanceConfig, ConfigurationSuiteContext } from "./config.ts";

/** The title prefix of every case (the mutation check finds cases by it). */
export const CONFIGURATION_CASES = {
  ping: "ping",
  getAll: "get all keys",
  getKeys: "get named keys",
  getMissing: "get missing keys",
  subscribeOrder: "subscribe sees every change in order",
  subscribeBurst: "subscribe during a burst",
  subscribeKeys: "subscribe watches only its keys",
  subscribeAll: "subscribe to every key",
  deletion: "subscribe sees deletions",
  unsubscribe: "unsubscribe stops deliveries",
  unsubscribeUnknown: "unsubscribe an unknown id",
  independent: "subscriptions are independent",
  reconnect: "reconnect after a server restart",
  close: "close",
} as const;

const C = CONFIGURATION_CASES;

export function createConfigurationContext(
  config: ConfigurationConformanceConfig,
  store: () => ConfigurationStore,
): ConfigurationSuiteContext {
  const runId = randomUUID().replaceAll("-", "").slice(0, 12);
  return {
    config,
    store,
    key: (suffix) => `conf-${runId}-${suffix}`,
    deliveryTimeoutMs: config.deliveryTimeoutMs ?? 10_000,
    quietPeriodMs: config.quietPeriodMs ?? 1_000,
    reconnectTimeoutMs: config.reconnectTimeoutMs ?? 30_000,
  };
}

async function subscribe(
  ctx: ConfigurationSuiteContext,
  keys: string[],
): Promise<{ id: string; got: Collector }> {
  const got = new Collector();
  const id = await ctx.store().subscribe(keys, { ...ctx.config.subscribeMetadata }, got.handler);
  expect(typeof id === "string" && id.length > 0, "subscribe resolves with an id").toBe(true);
  return { id, got };
}

/** Retries `fn` until it resolves (the server is coming back after a restart). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} kept failing: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export function describeConfigurationGet(ctx: ConfigurationSuiteContext): void {
  const { config } = ctx;
  it(`${C.ping}: resolves while the server answers`, async () => {
    await expect(ctx.store().ping()).resolves.toBeUndefined();
  });

  it(`${C.getAll}: an empty key list returns every item, with value, version and metadata`, async () => {
    const a = ctx.key("all-a");
    const b = ctx.key("all-b");
    await config.write(a, "alpha", "1");
    await config.write(b, "beta", "7");
    const items = await ctx.store().get([]);
    expect(items[a]).toEqual({ value: "alpha", version: "1", metadata: expect.any(Object) });
    expect(items[b]).toEqual({ value: "beta", version: "7", metadata: expect.any(Object) });
  });

  it(`${C.getKeys}: named keys return only those items, updated values included`, async () => {
    const a = ctx.key("named-a");
    const b = ctx.key("named-b");
    const other = ctx.key("named-other");
    await config.write(a, "one", "1");
    await config.write(b, "two", "1");
    await config.write(other, "three", "1");
    await config.write(a, "one again", "2");
    const items = await ctx.store().get([a, b]);
    expect(Object.keys(items).sort()).toEqual([a, b].sort());
    expect(items[a]?.value).toBe("one again");
    expect(items[a]?.version).toBe("2");
    expect(items[b]?.value).toBe("two");
  });

  it(`${C.getMissing}: keys the store does not hold are absent, not empty items`, async () => {
    const present = ctx.key("present");
    const missing = ctx.key("missing");
    await config.write(present, "here", "1");
    const items = await ctx.store().get([present, missing]);
    expect(Object.keys(items)).toEqual([present]);
    expect(await ctx.store().get([missing])).toEqual({});
  });
}

export function describeConfigurationSubscribe(ctx: ConfigurationSuiteContext): void {
  const { config } = ctx;
  it(`${C.subscribeOrder}: ten updates of one key arrive once each, in order, with their versions and the subscription id`, async () => {
    const key = ctx.key("order");
    const { id, got } = await subscribe(ctx, [key]);
    try {
      for (let i = 1; i <= 10; i++) {
        await config.write(key, `v${i}`, String(i));
        await got.waitForValue(key, `v${i}`, ctx.deliveryTimeoutMs);
      }
      await got.quiet(ctx.quietPeriodMs);
      expect(got.values(key)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i + 1}`));
      expect(got.of(key).map((i) => i.version)).toEqual(
        Array.from({ length: 10 }, (_, i) => String(i + 1)),
      );
      expect(new Set(got.updates.map((u) => u.id))).toEqual(new Set([id]));
    } finally {
      await ctx.store().unsubscribe(id);
    }
  });

  it(`${C.subscribeBurst}: 20 updates written back to back are delivered as the store guarantees (${config.burst})`, async () => {
    const key = ctx.key("burst");
    const { id, got } = await subscribe(ctx, [key]);
    const written = Array.from({ length: 20 }, (_, i) => `b${i + 1}`);
    try {
      for (const [i, value] of written.entries()) await config.write(key, value, String(i + 1));
      await got.waitForValue(key, "b20", ctx.deliveryTimeoutMs);
      await got.quiet(ctx.quietPeriodMs);
      const seen = got.values(key);
      if (config.burst === "every") {
        expect(seen).toEqual(written);
      } else {
        const positions = seen.map((v) => written.indexOf(v));
        expect(positions, `only written values: ${JSON.stringify(seen)}`).not.toContain(-1);
        expect(
          positions.every((p, i) => i === 0 || p >= (positions[i - 1] as number)),
          `values never go back: ${JSON.stringify(seen)}`,
        ).toBe(true);
        expect(seen.at(-1)).toBe("b20");
      }
    } finally {
      await ctx.store().unsubscribe(id);
    }
  });

  it(`${C.subscribeKeys}: a change of another key is not delivered`, async () => {
    const mine = ctx.key("mine");
    const other = ctx.key("not-mine");
    const { id, got } = await subscribe(ctx, [mine]);
    try {
      await config.write(other, "theirs", "1");
      await config.write(mine, "ours", "1");
      await got.waitForValue(mine, "ours", ctx.deliveryTimeoutMs);
      await got.quiet(ctx.quietPeriodMs);
      for (const u of got.updates) expect(Object.keys(u.items)).toEqual([mine]);
    } finally {
      await ctx.store().unsubscribe(id);
    }
  });

  it(`${C.subscribeAll}: an empty key list watches every key`, async () => {
    const a = ctx.key("every-a");
    const b = ctx.key("every-b");
    const { id, got } = await subscribe(ctx, []);
    try {
      await config.write(a, "first", "1");
      await config.write(b, "second", "1");
      await got.waitForValue(a, "first", ctx.deliveryTimeoutMs);
      await got.waitForValue(b, "second", ctx.deliveryTimeoutMs);
      expect(got.of(a)[0]?.version).toBe("1");
    } finally {
      await ctx.store().unsubscribe(id);
    }
  });

  it(`${C.deletion}: deleting a watched key delivers it, and get no longer returns it`, async () => {
    const key = ctx.key("deleted");
    await config.write(key, "doomed", "1");
    const { id, got } = await subscribe(ctx, [key]);
    try {
      await config.remove(key);
      await got.waitFor(() => got.of(key).length > 0, ctx.deliveryTimeoutMs, `waiting for ${key}`);
      expect(await ctx.store().get([key])).toEqual({});
    } finally {
      await ctx.store().unsubscribe(id);
    }
  });

  it(`${C.unsubscribe}: after unsubscribe resolves, the handler is not called again`, async () => {
    const key = ctx.key("unsub");
    const { id, got } = await subscribe(ctx, [key]);
    await config.write(key, "before", "1");
    await got.waitForValue(key, "before", ctx.deliveryTimeoutMs);
    await ctx.store().unsubscribe(id);
    got.markStopped();
    await config.write(key, "after", "2");
    await got.quiet(ctx.quietPeriodMs);
    expect(got.late, `calls after unsubscribe: ${JSON.stringify(got.updates)}`).toBe(0);
    expect(got.values(key)).toEqual(["before"]);
  });

  it(`${C.unsubscribeUnknown}: rejects with ERR_NOT_FOUND`, async () => {
    const error = await ctx
      .store()
      .unsubscribe(randomUUID())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_NOT_FOUND");
  });

  it(`${C.independent}: ending one subscription leaves another on the same key running`, async () => {
    const key = ctx.key("shared");
    const first = await subscribe(ctx, [key]);
    const second = await subscribe(ctx, [key]);
    expect(second.id).not.toBe(first.id);
    try {
      await config.write(key, "both", "1");
      await first.got.waitForValue(key, "both", ctx.deliveryTimeoutMs);
      await second.got.waitForValue(key, "both", ctx.deliveryTimeoutMs);
      await ctx.store().unsubscribe(first.id);
      first.got.markStopped();
      await config.write(key, "second only", "2");
      await second.got.waitForValue(key, "second only", ctx.deliveryTimeoutMs);
      await first.got.quiet(ctx.quietPeriodMs);
      expect(first.got.late).toBe(0);
      expect(new Set(second.got.updates.map((u) => u.id))).toEqual(new Set([second.id]));
    } finally {
      await ctx.store().unsubscribe(second.id);
    }
  });
}

export function describeConfigurationReconnect(ctx: ConfigurationSuiteContext): void {
  const { config } = ctx;
  const restart = config.restartServer;
  if (!restart) return;
  it(`${C.reconnect}: a subscription made before the restart sees changes written after it`, async () => {
    const key = ctx.key("reconnect");
    const { id, got } = await subscribe(ctx, [key]);
    try {
      await config.write(key, "before restart", "1");
      await got.waitForValue(key, "before restart", ctx.deliveryTimeoutMs);
      await restart();
      // The store notices the lost connection and subscribes again on its own; writes made before
      // it has are not its to see, so keep writing until one arrives.
      const deadline = Date.now() + ctx.reconnectTimeoutMs;
      let n = 0;
      while (!got.values(key).some((v) => v.startsWith("after restart"))) {
        if (Date.now() > deadline) {
          throw new Error(`no change delivered after the restart: ${JSON.stringify(got.updates)}`);
        }
        n++;
        await eventually(
          () => config.write(key, `after restart ${n}`, String(n + 1)),
          ctx.reconnectTimeoutMs,
          "write",
        );
        await got.quiet(Math.min(500, ctx.quietPeriodMs));
      }
      const items = await eventually(() => ctx.store().get([key]), ctx.reconnectTimeoutMs, "get");
      expect(items[key]?.value).toMatch(/^after restart/);
    } finally {
      await ctx
        .store()
        .unsubscribe(id)
        .catch(() => undefined);
    }
  }, 90_000);
}

/**
 * The configuration store suite, one call per store configuration: get (all keys, named keys,
 * missing keys), subscribe (every change in order, bursts as the store guarantees, only watched
 * keys, every key, deletions), unsubscribe (stops deliveries, unknown id, independent
 * subscriptions), reconnect after a server restart when `restartServer` is given, and close.
 * Cases run in order on one store; keys start with a per-run id, so suites can share a server.
 */
export function describeConfigurationStoreConformance(
  config: ConfigurationConformanceConfig,
): void {
  describe(`configuration store conformance: ${config.name}`, () => {
    let store: ConfigurationStore | undefined;
    const ctx = createConfigurationContext(config, () => {
      if (!store) throw new Error("the store was not created");
      return store;
    });
    beforeAll(async () => {
      store = await config.create();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
    });

    describeConfigurationGet(ctx);
    describeConfigurationSubscribe(ctx);
    describeConfigurationReconnect(ctx);

    it(`${C.close}: ends subscriptions; resolves and is idempotent`, async () => {
      const key = ctx.key("closed");
      const { got } = await subscribe(ctx, [key]);
      await ctx.store().close();
      got.markStopped();
      await ctx.store().close();
      // A writer that goes through the closed store (in-memory) may refuse; nothing to deliver then.
      await config.write(key, "after close", "1").catch(() => undefined);
      await got.quiet(ctx.quietPeriodMs);
      expect(got.late).toBe(0);
    });
  });
}
