import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "@outrig/conformance/testing";
import {
  bulkSubscribeByBatching,
  ComponentError,
  ConfigError,
  type PubSubMessage,
} from "@outrig/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryPubSub, type MemoryPubSub, pubsubDefinition } from "../src/pubsub.ts";
import { redeliveryDelay } from "../src/pubsub-options.ts";
import { checkTopicFilter, topicMatcher } from "../src/pubsub-topic.ts";
import { messageExpiry } from "../src/pubsub-ttl.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const read = (m: PubSubMessage): string => new TextDecoder().decode(m.data);

const open: MemoryPubSub[] = [];
async function make(metadata: Record<string, string> = {}): Promise<MemoryPubSub> {
  const pubsub = await createMemoryPubSub({ redeliverInterval: "10ms", ...metadata });
  open.push(pubsub);
  return pubsub;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

const topic = (name: string): string => `${name}-${randomUUID()}`;

describe("pubsub.in-memory delivery", () => {
  it("fans every message out to every subscription of its topic, and to no other", async () => {
    const pubsub = await make();
    const t = topic("fanout");
    const a: string[] = [];
    const b: string[] = [];
    const other: string[] = [];
    await pubsub.subscribe({ topic: t }, async (m) => void a.push(read(m)));
    await pubsub.subscribe({ topic: t }, async (m) => void b.push(read(m)));
    await pubsub.subscribe({ topic: `${t}-other` }, async (m) => void other.push(read(m)));
    for (const n of [1, 2, 3]) await pubsub.publish({ topic: t, data: text(`m${n}`) });
    await waitUntil(() => a.length === 3 && b.length === 3, 3_000, "both subscribers");
    await sleep(30);
    expect(a.sort()).toEqual(["m1", "m2", "m3"]);
    expect(b.sort()).toEqual(["m1", "m2", "m3"]);
    expect(other).toEqual([]);
  });

  it("keeps nothing for a topic nobody subscribes to (Dapr's in-memory behaviour)", async () => {
    const pubsub = await make();
    const t = topic("unsubscribed");
    await pubsub.publish({ topic: t, data: text("early") });
    const got: string[] = [];
    await pubsub.subscribe({ topic: t }, async (m) => void got.push(read(m)));
    await pubsub.publish({ topic: t, data: text("late") });
    await waitUntil(() => got.length > 0, 3_000, "the late message");
    await sleep(30);
    expect(got).toEqual(["late"]);
  });

  it("passes topic, metadata and content type through", async () => {
    const pubsub = await make();
    const t = topic("fields");
    let got: PubSubMessage | undefined;
    await pubsub.subscribe({ topic: t }, async (m) => {
      got = m;
    });
    await pubsub.publish({
      topic: t,
      data: text("x"),
      metadata: { a: "1" },
      contentType: "text/plain",
    });
    await waitUntil(() => got !== undefined, 3_000, "the message");
    expect(got).toEqual({
      topic: t,
      data: text("x"),
      metadata: { a: "1" },
      contentType: "text/plain",
    });
  });

  it("gives each delivery its own copy of the data", async () => {
    const pubsub = await make();
    const t = topic("copies");
    const seen: string[] = [];
    let attempts = 0;
    await pubsub.subscribe({ topic: t }, async (m) => {
      seen.push(read(m));
      m.data.fill(0x21);
      if (++attempts === 1) throw new Error("retry me");
    });
    const data = text("abc");
    await pubsub.publish({ topic: t, data });
    data.fill(0x3f);
    await waitUntil(() => seen.length === 2, 3_000, "the redelivery");
    expect(seen).toEqual(["abc", "abc"]);
  });

  it("in single mode never runs two handlers at once; in parallel mode unkeyed messages overlap", async () => {
    for (const [mode, expectOverlap] of [
      ["single", false],
      ["parallel", true],
    ] as const) {
      const pubsub = await make({ concurrencyMode: mode });
      const t = topic(mode);
      let running = 0;
      let peak = 0;
      let done = 0;
      await pubsub.subscribe({ topic: t }, async () => {
        peak = Math.max(peak, ++running);
        await sleep(10);
        running--;
        done++;
      });
      for (let i = 0; i < 5; i++) await pubsub.publish({ topic: t, data: text(String(i)) });
      await waitUntil(() => done === 5, 3_000, `${mode}: all messages`);
      expect(peak > 1, `${mode}: peak concurrency ${peak}`).toBe(expectOverlap);
    }
  });

  it("holds a partition key's later messages until a failed one succeeds", async () => {
    const pubsub = await make();
    const t = topic("keyed");
    const order: string[] = [];
    let failures = 0;
    await pubsub.subscribe({ topic: t }, async (m) => {
      order.push(read(m));
      if (read(m) === "k1" && failures++ < 2) throw new Error("not yet");
    });
    for (const n of [1, 2, 3]) {
      await pubsub.publish({ topic: t, data: text(`k${n}`), metadata: { partitionKey: "p" } });
    }
    await waitUntil(() => order.includes("k3"), 3_000, "the last message");
    expect(order).toEqual(["k1", "k1", "k1", "k2", "k3"]);
  });

  it("stops delivering when the signal aborts, and ignores a signal already aborted", async () => {
    const pubsub = await make();
    const t = topic("abort");
    const live: string[] = [];
    const never: string[] = [];
    const controller = new AbortController();
    await pubsub.subscribe(
      { topic: t, signal: controller.signal },
      async (m) => void live.push(read(m)),
    );
    await pubsub.subscribe(
      { topic: t, signal: AbortSignal.abort() },
      async (m) => void never.push(read(m)),
    );
    await pubsub.publish({ topic: t, data: text("before") });
    await waitUntil(() => live.length === 1, 3_000, "the first message");
    controller.abort();
    await pubsub.publish({ topic: t, data: text("after") });
    await sleep(30);
    expect(live).toEqual(["before"]);
    expect(never).toEqual([]);
  });

  it("drops a queued message whose TTL passed before its turn", async () => {
    const pubsub = await make({ concurrencyMode: "single" });
    const t = topic("ttl");
    const got: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    await pubsub.subscribe({ topic: t }, async (m) => {
      got.push(read(m));
      if (read(m) === "hold") await held;
    });
    await pubsub.publish({ topic: t, data: text("hold") });
    await waitUntil(() => got.length === 1, 3_000, "the holding message");
    await pubsub.publish({ topic: t, data: text("short"), metadata: { ttl: "50ms" } });
    await pubsub.publish({ topic: t, data: text("long"), metadata: { ttlInSeconds: "60" } });
    await sleep(80);
    release();
    await waitUntil(() => got.includes("long"), 3_000, "the long-lived message");
    expect(got).toEqual(["hold", "long"]);
  });
});

describe("pubsub.in-memory bulk", () => {
  it("bulk publishes every valid entry and reports the invalid ones", async () => {
    const pubsub = await make();
    const t = topic("bulk-publish");
    const got: string[] = [];
    await pubsub.subscribe({ topic: t }, async (m) => void got.push(`${read(m)}:${m.metadata.k}`));
    const response = await pubsub.bulkPublish({
      topic: t,
      metadata: { k: "request" },
      entries: [
        { entryId: "1", event: text("a") },
        { entryId: "2", event: text("b"), metadata: { ttlInSeconds: "soon" } },
        { entryId: "3", event: text("c"), metadata: { k: "entry" } },
      ],
    });
    expect(response.failedEntries.map((f) => f.entryId)).toEqual(["2"]);
    await waitUntil(() => got.length === 2, 3_000, "the valid entries");
    expect(got.sort()).toEqual(["a:request", "c:entry"]);
  });

  it("rejects bulk publishes with empty or repeated entry IDs", async () => {
    const pubsub = await make();
    for (const entries of [
      [{ entryId: "", event: text("a") }],
      [
        { entryId: "x", event: text("a") },
        { entryId: "x", event: text("b") },
      ],
    ]) {
      const error = await pubsub.bulkPublish({ topic: "t", entries }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ComponentError);
      expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
    }
  });

  it("fills a batch up to maxMessagesCount, and flushes a short one after maxAwaitDurationMs", async () => {
    const pubsub = await make();
    const t = topic("batches");
    const sizes: number[] = [];
    await pubsub.bulkSubscribe(
      { topic: t, maxMessagesCount: 3, maxAwaitDurationMs: 100 },
      async (m) => {
        sizes.push(m.entries.length);
        return m.entries.map((e) => ({ entryId: e.entryId }));
      },
    );
    for (let i = 0; i < 4; i++) await pubsub.publish({ topic: t, data: text(String(i)) });
    await waitUntil(() => sizes.reduce((a, b) => a + b, 0) === 4, 3_000, "all entries");
    expect(sizes).toEqual([3, 1]);
  });

  it("redelivers failed, missing and thrown entries, and only those", async () => {
    const pubsub = await make();
    const t = topic("bulk-retry");
    const deliveries: string[][] = [];
    await pubsub.bulkSubscribe(
      { topic: t, maxMessagesCount: 10, maxAwaitDurationMs: 30 },
      async (m) => {
        const events = m.entries.map((e) => new TextDecoder().decode(e.event));
        deliveries.push(events);
        if (deliveries.length === 1) {
          // "a" acked, "b" failed, "c" left without a status.
          return [
            { entryId: m.entries[0]!.entryId },
            { entryId: m.entries[1]!.entryId, error: "no" },
          ];
        }
        if (deliveries.length === 2) throw new Error("whole batch fails");
        return m.entries.map((e) => ({ entryId: e.entryId }));
      },
    );
    for (const s of ["a", "b", "c"]) await pubsub.publish({ topic: t, data: text(s) });
    await waitUntil(() => deliveries.length === 3, 3_000, "three deliveries");
    await sleep(50);
    expect(deliveries).toEqual([
      ["a", "b", "c"],
      ["b", "c"],
      ["b", "c"],
    ]);
  });
  it("gets unique entry IDs from core's batching fallback even when messages carry an entryId", async () => {
    const pubsub = await make();
    const t = topic("batching");
    const batches: string[][] = [];
    await bulkSubscribeByBatching(
      pubsub.subscribe.bind(pubsub),
      { topic: t, maxMessagesCount: 2, maxAwaitDurationMs: 1_000 },
      async (m) => {
        batches.push(m.entries.map((e) => e.entryId));
        return m.entries.map((e) => ({
          entryId: e.entryId,
          ...(e.metadata.fail ? { error: "no" } : {}),
        }));
      },
    );
    await pubsub.publish({ topic: t, data: text("a"), metadata: { entryId: "1" } });
    await pubsub.publish({ topic: t, data: text("b"), metadata: { entryId: "1", fail: "yes" } });
    await waitUntil(() => batches.length >= 2, 3_000, "the failed entry's redelivery");
    expect(batches[0]).toHaveLength(2);
    expect(new Set(batches[0]).size).toBe(2);
    // Only the failed entry comes back; with shared IDs both would have been acked or retried.
    expect(batches[1]).toHaveLength(1);
  });
});

describe("pubsub.in-memory topics", () => {
  it("matches MQTT wildcards by whole levels", () => {
    const cases: [string, string, boolean][] = [
      ["a/+/c", "a/b/c", true],
      ["a/+/c", "a/b/d", false],
      ["a/+/c", "a/b/c/d", false],
      ["a/#", "a", true],
      ["a/#", "a/b/c", true],
      ["a/#", "ab", false],
      ["#", "anything/at/all", true],
      ["+", "a", true],
      ["+", "a/b", false],
      ["a+b", "a+b", true],
      ["a+b", "axb", false],
      ["orders", "orders", true],
      ["orders", "orders-2", false],
    ];
    for (const [filter, t, expected] of cases) {
      expect(topicMatcher(filter)(t), `${filter} vs ${t}`).toBe(expected);
    }
  });

  it("rejects '#' anywhere but at the end of a filter", async () => {
    expect(checkTopicFilter("a/#/b")).toMatch(/last level/);
    expect(checkTopicFilter("a/#")).toBeUndefined();
    const pubsub = await make();
    const error = await pubsub
      .subscribe({ topic: "a/#/b" }, async () => {})
      .catch((e: unknown) => e);
    expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
    const empty = await pubsub.publish({ topic: "", data: text("x") }).catch((e: unknown) => e);
    expect((empty as ComponentError).code).toBe("ERR_INVALID_REQUEST");
  });
});

describe("pubsub.in-memory metadata and lifecycle", () => {
  it("reads ttlInSeconds and ttl the way Dapr does", () => {
    expect(messageExpiry({ ttlInSeconds: "2" }, 1_000)).toBe(3_000);
    expect(messageExpiry({ TTLINSECONDS: "1" }, 0)).toBe(1_000);
    expect(messageExpiry({ ttl: "1m" }, 0)).toBe(60_000);
    expect(messageExpiry({ ttl: "5" }, 0)).toBe(5_000);
    expect(messageExpiry({}, 0)).toBeUndefined();
    const bad: Record<string, string>[] = [
      { ttlInSeconds: "0" },
      { ttlInSeconds: "-1" },
      { ttlInSeconds: "1.5" },
      { ttl: "soon" },
    ];
    for (const metadata of bad) {
      expect(() => messageExpiry(metadata, 0), JSON.stringify(metadata)).toThrow(ComponentError);
    }
  });

  it("backs off exponentially between redeliveries, up to the cap", () => {
    const options = {
      concurrencyMode: "parallel",
      redeliverInterval: 100,
      maxRedeliverInterval: 1_000,
    } as const;
    expect([1, 2, 3, 4, 5, 50].map((n) => redeliveryDelay(options, n))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it("reports every invalid metadata field at once", async () => {
    const error = await createMemoryPubSub({
      // @ts-expect-error: not a mode (the typed options refuse it too)
      concurrencyMode: "sometimes",
      redeliverInterval: "soon",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.field).sort()).toEqual([
      "concurrencyMode",
      "redeliverInterval",
    ]);
  });

  it("rejects every operation with ERR_CLOSED after close, and close is idempotent", async () => {
    const pubsub = await make();
    const t = topic("closed");
    const got: string[] = [];
    await pubsub.subscribe({ topic: t }, async (m) => void got.push(read(m)));
    await pubsub.close();
    await pubsub.close();
    for (const attempt of [
      pubsub.ping(),
      pubsub.publish({ topic: t, data: text("x") }),
      pubsub.bulkPublish({ topic: t, entries: [] }),
      pubsub.subscribe({ topic: t }, async () => {}),
      pubsub.bulkSubscribe({ topic: t }, async () => []),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect((error as ComponentError).code).toBe("ERR_CLOSED");
    }
    expect(got).toEqual([]);
  });

  it("describes itself in the manifest with the capabilities its instances declare", async () => {
    const pubsub = await make();
    expect(pubsubDefinition.type).toBe("pubsub.in-memory");
    expect([...pubsubDefinition.capabilities].sort()).toEqual([...pubsub.capabilities].sort());
    const schema = pubsubDefinition.options.jsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual([
      "concurrencyMode",
      "maxRedeliverInterval",
      "redeliverInterval",
    ]);
  });
});
