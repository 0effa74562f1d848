import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startKafka, useService } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import type { BulkMessage, PubSubMessage } from "@outrig/core";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPubSub, type KafkaPubSub, kafkaOptions } from "../src/index.ts";

const kafka = useService(() => startKafka());
const execFileAsync = promisify(execFile);

const open: KafkaPubSub[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await Promise.allSettled(open.splice(0).map((p) => p.close()));
});

const unique = (name: string): string => `kafka-${name}-${randomUUID().slice(0, 8)}`;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function create(metadata: Record<string, string>): Promise<KafkaPubSub> {
  const pubsub = await createKafkaPubSub({ brokers: kafka().brokers.join(","), ...metadata });
  open.push(pubsub);
  return pubsub;
}

function signal(): AbortSignal {
  const a = new AbortController();
  aborts.push(a);
  return a.signal;
}

/** A raw kafkajs admin, to create multi-partition topics and inspect what the component made. */
let admin: ReturnType<Kafka["admin"]>;
beforeAll(async () => {
  admin = new Kafka({ brokers: kafka().brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
afterAll(async () => {
  await admin?.disconnect();
});

describe("options", () => {
  it("applies Dapr's defaults", () => {
    expect(kafkaOptions.parse({ brokers: "a:9092, b:9092" })).toMatchObject({
      brokers: ["a:9092", "b:9092"],
      initialOffset: "newest",
      consumeRetryEnabled: true,
      consumeRetryInterval: 100,
      disableEntityManagement: false,
      saslMechanism: "PLAINTEXT",
    });
  });

  it("requires SASL credentials for authType=password and certificates for mtls, all reported at once", async () => {
    await expect(
      createKafkaPubSub({ brokers: "localhost:1", authType: "password" }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
      message: expect.stringMatching(/saslUsername.*saslPassword/),
    });
    await expect(
      createKafkaPubSub({ brokers: "localhost:1", authType: "mtls" }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
    });
    expect(kafkaOptions.redact({ saslPassword: "p", clientKey: "k", brokers: "b" })).toEqual({
      saslPassword: "***",
      clientKey: "***",
      brokers: "b",
    });
  });
});

describe("messages", () => {
  it("sends partitionKey (or __key) as the key and other metadata as headers, and back", async () => {
    const topic = unique("headers");
    const pubsub = await create({ consumerGroup: unique("g"), initialOffset: "oldest" });
    const got: PubSubMessage[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      got.push(m);
    });
    await pubsub.publish({
      topic,
      data: text("one"),
      contentType: "text/plain",
      metadata: { partitionKey: "order-7", traceparent: "00-aa-bb-01", ttlInSeconds: "60" },
    });
    await pubsub.publish({ topic, data: text("two"), metadata: { __key: "order-8" } });
    await waitUntil(() => got.length === 2, 30_000);
    const [one, two] = got as [PubSubMessage, PubSubMessage];
    expect(decode(one.data)).toBe("one");
    expect(one.contentType).toBe("text/plain");
    expect(one.metadata).toMatchObject({
      __key: "order-7",
      traceparent: "00-aa-bb-01",
      __partition: "0",
    });
    expect(one.metadata).not.toHaveProperty("partitionKey");
    expect(one.metadata).not.toHaveProperty("ttlInSeconds");
    expect(two.metadata.__key).toBe("order-8");
  });

  it("bulk publishes in one request and bulk subscribes in batches, retrying only failed entries", async () => {
    const topic = unique("bulk");
    const pubsub = await create({ consumerGroup: unique("g"), initialOffset: "oldest" });
    const response = await pubsub.bulkPublish({
      topic,
      entries: Array.from({ length: 12 }, (_, i) => ({
        entryId: String(i),
        event: text(`e${i}`),
        metadata: { partitionKey: "same" },
      })),
    });
    expect(response.failedEntries).toEqual([]);
    const batches: BulkMessage[] = [];
    const handled: string[] = [];
    let failedOnce = false;
    await pubsub.bulkSubscribe(
      { topic, maxMessagesCount: 5, maxAwaitDurationMs: 200, signal: signal() },
      async (batch) => {
        batches.push(batch);
        return batch.entries.map((e) => {
          const body = decode(e.event);
          if (body === "e3" && !failedOnce) {
            failedOnce = true;
            return { entryId: e.entryId, error: "try again" };
          }
          handled.push(body);
          return { entryId: e.entryId };
        });
      },
    );
    await waitUntil(() => handled.length === 12, 30_000);
    expect(Math.max(...batches.map((b) => b.entries.length))).toBeLessThanOrEqual(5);
    // The retry carries only e3, and the next chunk waits for it.
    expect(
      batches.some((b) => b.entries.length === 1 && decode(b.entries[0]!.event) === "e3"),
    ).toBe(true);
    expect([...handled].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `e${i}`).sort());
    expect(handled.indexOf("e3")).toBeLessThan(handled.indexOf("e5"));
  });

  it("consumeRetryEnabled=false logs and skips a failed message, as Dapr does", async () => {
    const topic = unique("noretry");
    const pubsub = await create({
      consumerGroup: unique("g"),
      initialOffset: "oldest",
      consumeRetryEnabled: "false",
    });
    const seen: string[] = [];
    await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
      seen.push(decode(m.data));
      if (decode(m.data) === "bad") throw new Error("fail");
    });
    await pubsub.publish({ topic, data: text("bad") });
    await pubsub.publish({ topic, data: text("good") });
    await waitUntil(() => seen.includes("good"), 30_000);
    await sleep(500);
    expect(seen).toEqual(["bad", "good"]);
  });
});

describe("process warnings", () => {
  it("a consumer run prints nothing to stderr: no TimeoutNegativeWarning from kafkajs on Node 24 (patched)", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/consumer-run.ts", import.meta.url));
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["--conditions=@outrig/source", fixture],
      { env: { ...process.env, KAFKA_BROKERS: kafka().brokers.join(",") }, timeout: 60_000 },
    );
    expect(stderr).toBe("");
    expect(JSON.parse(stdout)).toEqual({ got: "x", warnings: [] });
  }, 90_000);
});

describe("consumer groups", () => {
  it("initialOffset decides where a new group starts: oldest reads what came before, newest does not", async () => {
    const topic = unique("offset");
    const publisher = await create({});
    await publisher.publish({ topic, data: text("before") });
    const oldest: string[] = [];
    const newest: string[] = [];
    const a = await create({ consumerGroup: unique("old"), initialOffset: "oldest" });
    const b = await create({ consumerGroup: unique("new"), initialOffset: "newest" });
    await a.subscribe({ topic, signal: signal() }, async (m) => {
      oldest.push(decode(m.data));
    });
    await b.subscribe({ topic, signal: signal() }, async (m) => {
      newest.push(decode(m.data));
    });
    await publisher.publish({ topic, data: text("after") });
    await waitUntil(
      () => oldest.length === 2 && newest.length === 1,
      30_000,
      () => `oldest got ${JSON.stringify(oldest)}, newest got ${JSON.stringify(newest)}`,
    );
    expect(oldest).toEqual(["before", "after"]);
    expect(newest).toEqual(["after"]);
  }, 60_000);

  // Every attempt fails until the second consumer has joined, so when the rebalance comes no
  // partition has a commit from handled messages: with newest, a partition's
  // start must then come from the commit made on assignment, or its next owner starts at the end
  // and skips the first 101 messages (it did before pinNewestStarts).
  for (const initialOffset of ["oldest", "newest"] as const) {
    it(`initialOffset=${initialOffset}: a second consumer joining mid-stream before the first commit loses and skips nothing, with failing handlers on both`, async () => {
      const topic = unique("rebalance");
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      const group = unique("g");
      const total = 300;
      const handledBy = [new Set<number>(), new Set<number>()];
      const attempts = new Map<number, number>();
      let secondJoined = false;
      const handler = (who: 0 | 1) => async (m: PubSubMessage) => {
        const seq = Number(decode(m.data));
        const n = (attempts.get(seq) ?? 0) + 1;
        attempts.set(seq, n);
        if (!secondJoined) throw new Error(`the first consumer is not ready for ${seq}`);
        if (seq % 7 === 0 && n === 1) throw new Error(`first attempt of ${seq} fails`);
        await sleep(2);
        handledBy[who]!.add(seq);
      };
      const options = { consumerGroup: group, initialOffset, consumeRetryInterval: "20ms" };
      const first = await create(options);
      await first.subscribe({ topic, signal: signal() }, handler(0));
      const publisher = await create({});
      for (let seq = 0; seq < total; seq++) {
        await publisher.publish({
          topic,
          data: text(String(seq)),
          metadata: { partitionKey: `k${seq % 16}` },
        });
        if (seq === 100) {
          const second = await create(options);
          await second.subscribe({ topic, signal: signal() }, handler(1));
          expect(handledBy[0]!.size, "nothing handled before the rebalance").toBe(0);
          secondJoined = true;
        }
      }
      const union = () => new Set([...handledBy[0]!, ...handledBy[1]!]);
      await waitUntil(
        () => union().size === total,
        90_000,
        () => `all ${total} messages handled (${union().size} were)`,
      );
      expect(handledBy[0]!.size, "the first consumer handled messages").toBeGreaterThan(0);
      expect(handledBy[1]!.size, "the second consumer took over partitions").toBeGreaterThan(0);
      for (let seq = 0; seq < total; seq += 7) expect(attempts.get(seq)).toBeGreaterThanOrEqual(2);
    }, 150_000);
  }

  it("subscriptions to different topics in one group each get only their own topic (range assignment)", async () => {
    const [t1, t2] = [unique("a"), unique("b")];
    const pubsub = await create({ consumerGroup: unique("g"), initialOffset: "oldest" });
    const got: [string[], string[]] = [[], []];
    await pubsub.subscribe({ topic: t1, signal: signal() }, async (m) => {
      got[0].push(m.topic);
    });
    await pubsub.subscribe({ topic: t2, signal: signal() }, async (m) => {
      got[1].push(m.topic);
    });
    await pubsub.publish({ topic: t1, data: text("1") });
    await pubsub.publish({ topic: t2, data: text("2") });
    await waitUntil(() => got[0].length === 1 && got[1].length === 1, 60_000);
    expect(got).toEqual([[t1], [t2]]);
  }, 90_000);

  // kafkajs keeps a group's committed offsets in memory per client and a consumer clears all of
  // them on each assignment; members sharing a client then crashed in their fetch loops
  // ("Cannot read properties of undefined") and a later subscribe failed or received nothing.
  it("many subscriptions of one component in one group, newest, each get what is published after they subscribed", async () => {
    const topics = Array.from({ length: 6 }, (_, i) => unique(`many${i}`));
    const pubsub = await create({
      consumerGroup: unique("g"),
      initialOffset: "newest",
      partitionsConsumedConcurrently: "4",
    });
    const got = new Map<string, string[]>(topics.map((t) => [t, []]));
    for (const [i, topic] of topics.entries()) {
      await pubsub.subscribe({ topic, signal: signal() }, async (m) => {
        got.get(m.topic)?.push(decode(m.data));
      });
      // Published at once, while the earlier members are still rejoining after this one's join.
      for (const t of topics.slice(0, i + 1)) {
        await pubsub.publish({ topic: t, data: text(`${i}`) });
      }
    }
    const expected = new Map(
      topics.map((t, i) => [t, Array.from({ length: topics.length - i }, (_, k) => `${i + k}`)]),
    );
    await waitUntil(
      () => topics.every((t) => got.get(t)?.length === expected.get(t)?.length),
      90_000,
      () => JSON.stringify([...got]),
    );
    // Unkeyed messages may spread over partitions, so only the set per topic is fixed.
    expect(new Map([...got].map(([t, values]) => [t, [...values].sort()]))).toEqual(expected);
  }, 150_000);
});

describe("topics", () => {
  it("creates a missing topic by default", async () => {
    const topic = unique("created");
    const pubsub = await create({});
    await pubsub.publish({ topic, data: text("x") });
    expect(await admin.listTopics()).toContain(topic);
  });

  it("disableEntityManagement=true never creates topics: publishing to a missing one fails", async () => {
    const topic = unique("missing");
    const pubsub = await create({ disableEntityManagement: "true" });
    await expect(pubsub.publish({ topic, data: text("x") })).rejects.toMatchObject({
      code: "ERR_UNAVAILABLE",
    });
    expect(await admin.listTopics()).not.toContain(topic);
  }, 90_000);
});
