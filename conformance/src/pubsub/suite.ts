import { randomUUID } from "node:crypto";
import {
  type BulkMessageHandler,
  type BulkSubscribeRequest,
  bulkPublishOneByOne,
  bulkSubscribeByBatching,
  ComponentError,
  getMetadata,
  type MessageHandler,
  type Metadata,
  PUBSUB_CAPABILITIES,
  type PubSub,
  type PubSubCapability,
} from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { waitUntil } from "../testing/wait.ts";
import { type PubSubConformanceConfig, resolveConfig } from "./config.ts";
import { parsePayload, payload, range } from "./payload.ts";
import { ArrivalLog, DeliveryTracker } from "./tracker.ts";
import { gate, sleep } from "./wait.ts";

/**
 * The title prefix of every case, so tools (and the mutant check) can refer to a case without
 * repeating its full title.
 */
export const PUBSUB_CASES = {
  init: "init",
  ping: "ping",
  subscribe: "subscribe",
  bulkSubscribe: "bulkSubscribe",
  publish: "publish",
  bulkPublish: "bulkPublish",
  verifyRead: "verify read",
  verifyBulkRead: "verify bulk read",
  redelivery: "redelivery",
  multipleHandlers: "multiple handlers",
  stopSubscribers: "stop subscribers",
  stopBulkSubscriber: "stop bulk subscriber",
  ordering: "ordering",
  messageTtl: "message TTL",
  topicMatching: "topic matching",
  metadataRoundTrip: "metadata round trip",
  close: "close",
} as const;

const BULK_MAX_MESSAGES = 5;
const BULK_MAX_AWAIT_MS = 500;
const TTL_SECONDS = 1;
/** Past the TTL with room for brokers that expire messages on a timer rather than exactly. */
const TTL_EXPIRY_WAIT_MS = TTL_SECONDS * 1000 + 1500;

/**
 * Registers the pub/sub conformance suite for one component configuration: Dapr's cases
 * (components-contrib tests/conformance/pubsub) made strict, plus redelivery, ordering, message
 * TTL, unsubscribe, topic matching, metadata and close. Capabilities are read from the instance and
 * checked both ways: a declared one must work, an undeclared bulk operation must reject with
 * ERR_NOT_SUPPORTED. Cases share one component and run in order.
 */
export function describePubSubConformance(config: PubSubConformanceConfig): void {
  const c = resolveConfig(config);
  const runId = randomUUID().replaceAll("-", "").slice(0, 16);
  const topic = (name: string): string => `conf-${runId}-${name}`;
  const N = c.messageCount;
  const caseTimeout =
    2 * c.waitBeforePublishMs +
    c.maxReadDurationMs +
    3 * c.quietPeriodMs +
    2 * c.unsubscribeSettleMs +
    TTL_EXPIRY_WAIT_MS +
    15_000;

  let component: PubSub | undefined;
  const controllers: AbortController[] = [];
  const extraClients: PubSub[] = [];

  const need = (): PubSub => {
    if (!component) throw new Error(`${c.name}: no component to test: the init case failed`);
    return component;
  };
  const has = (capability: PubSubCapability): boolean => need().capabilities.has(capability);
  const newSubscription = (): AbortController => {
    const controller = new AbortController();
    controllers.push(controller);
    return controller;
  };
  const publish = (t: string, seq: number, metadata: Metadata = {}): Promise<void> =>
    need().publish({
      topic: t,
      data: payload(runId, seq),
      metadata: { ...c.publishMetadata, ...metadata },
      contentType: "text/plain",
    });
  const subscribe = (t: string, handler: MessageHandler, signal: AbortSignal): Promise<void> =>
    need().subscribe({ topic: t, metadata: { ...c.subscribeMetadata }, signal }, handler);

  /** Records this run's payloads; counts deliveries that start after `signal` aborted. */
  const logTo =
    (log: ArrivalLog, signal?: AbortSignal): MessageHandler =>
    async (message) => {
      const seq = parsePayload(message.data, runId);
      if (seq === undefined) return;
      if (signal?.aborted) log.callsAfterAbort++;
      log.seqs.push(seq);
      log.topics.push(message.topic);
    };

  // Shared by cases 3-8, as in Dapr's suite.
  const mainTopic = topic("main");
  const bulkTopic = topic("bulk");
  const mainTracker = new DeliveryTracker({ failurePattern: true });
  const bulkTracker = new DeliveryTracker({ failurePattern: true });
  const mainExpected: number[] = [];
  const bulkExpected: number[] = [];
  const bulkStats = { batches: 0, largestBatch: 0, duplicateEntryIds: 0, callsAfterAbort: 0 };
  const bulkSubscription = newSubscription();

  const trackingHandler =
    (tracker: DeliveryTracker, expectedTopic: string): MessageHandler =>
    async (message) => {
      const seq = parsePayload(message.data, runId);
      if (seq === undefined) return;
      if (message.topic !== expectedTopic) tracker.wrongTopics.push(message.topic);
      if (tracker.deliver(seq) === "fail") {
        // Sleeping before failing lets a backlog build up behind the failed message, as in Dapr.
        await sleep(c.failureSleepMs);
        throw new Error(`conformance: deliberate failure of message ${seq}`);
      }
    };

  const bulkHandler: BulkMessageHandler = async (message) => {
    if (bulkSubscription.signal.aborted) bulkStats.callsAfterAbort++;
    bulkStats.batches++;
    bulkStats.largestBatch = Math.max(bulkStats.largestBatch, message.entries.length);
    const ids = message.entries.map((e) => e.entryId);
    bulkStats.duplicateEntryIds += ids.length - new Set(ids).size;
    if (message.topic !== bulkTopic) bulkTracker.wrongTopics.push(message.topic);
    let failedAny = false;
    const statuses = message.entries.map((entry) => {
      const seq = parsePayload(entry.event, runId);
      if (seq === undefined || bulkTracker.deliver(seq) !== "fail")
        return { entryId: entry.entryId };
      failedAny = true;
      return { entryId: entry.entryId, error: `conformance: deliberate failure of message ${seq}` };
    });
    if (failedAny) await sleep(c.failureSleepMs);
    return statuses;
  };

  // Cases 9-10 share two subscriptions.
  let multi:
    | {
        topics: [string, string];
        logs: [ArrivalLog, ArrivalLog];
        controllers: [AbortController, AbortController];
      }
    | undefined;

  describe.sequential(`pub/sub conformance: ${c.name}`, () => {
    afterAll(async () => {
      for (const controller of controllers) controller.abort();
      await Promise.allSettled([component?.close(), ...extraClients.map((x) => x.close())]);
    });

    it(
      `${PUBSUB_CASES.init}: create() resolves to a component that declares only known capabilities`,
      async () => {
        component = await c.create();
        expect(typeof component.publish).toBe("function");
        expect(typeof component.capabilities.has).toBe("function");
        for (const capability of component.capabilities) {
          expect(PUBSUB_CAPABILITIES, `unknown capability ${capability}`).toContain(capability);
        }
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.ping}: the broker answers`,
      async () => {
        await expect(need().ping()).resolves.toBeUndefined();
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.subscribe}: a subscription whose handler fails the first 2 and every 5th first delivery is established`,
      async () => {
        await subscribe(
          mainTopic,
          trackingHandler(mainTracker, mainTopic),
          newSubscription().signal,
        );
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.bulkSubscribe}: batches of at most ${BULK_MAX_MESSAGES} with per-entry outcomes (BULK_SUBSCRIBE); otherwise ERR_NOT_SUPPORTED and the batching fallback`,
      async () => {
        const pubsub = need();
        const request: BulkSubscribeRequest = {
          topic: bulkTopic,
          metadata: { ...c.subscribeMetadata },
          maxMessagesCount: BULK_MAX_MESSAGES,
          maxAwaitDurationMs: BULK_MAX_AWAIT_MS,
          signal: bulkSubscription.signal,
        };
        if (has("BULK_SUBSCRIBE")) {
          await pubsub.bulkSubscribe(request, bulkHandler);
        } else {
          await expectNotSupported(
            pubsub.bulkSubscribe(request, bulkHandler),
            "bulkSubscribe",
            "BULK_SUBSCRIBE",
          );
          // What the sidecar does for such a component; the bulk cases then check that path.
          await bulkSubscribeByBatching(pubsub.subscribe.bind(pubsub), request, bulkHandler);
        }
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.publish}: ${N} messages to the subscribed topic and ${N} to the bulk topic are accepted`,
      async () => {
        await sleep(c.waitBeforePublishMs);
        for (const seq of range(1, N)) {
          await publish(mainTopic, seq);
          mainExpected.push(seq);
        }
        for (const seq of range(1000, N)) {
          await publish(bulkTopic, seq);
          bulkExpected.push(seq);
        }
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.bulkPublish}: ${N} entries in one call, none failed (BULK_PUBSUB); otherwise ERR_NOT_SUPPORTED`,
      async () => {
        const pubsub = need();
        const seqs = range(N + 1, N);
        const request = {
          topic: mainTopic,
          metadata: { ...c.publishMetadata },
          entries: seqs.map((seq) => ({
            entryId: String(seq),
            event: payload(runId, seq),
            contentType: "text/plain",
            metadata: {},
          })),
        };
        if (has("BULK_PUBSUB")) {
          expect((await pubsub.bulkPublish(request)).failedEntries).toEqual([]);
        } else {
          await expectNotSupported(pubsub.bulkPublish(request), "bulkPublish", "BULK_PUBSUB");
          // The sidecar falls back to single publishes; verify read still expects these entries.
          expect((await bulkPublishOneByOne(pubsub, request)).failedEntries).toEqual([]);
        }
        mainExpected.push(...seqs);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.verifyRead}: every message is handled, and every deliberately failed one is redelivered until it succeeds`,
      async () => {
        expect(
          mainExpected,
          "the publish and bulkPublish cases did not publish everything",
        ).toHaveLength(2 * N);
        await waitUntil(
          () => mainTracker.missing(mainExpected).length === 0,
          c.maxReadDurationMs,
          () => mainTracker.describe(mainExpected),
        );
        expect(mainTracker.failed.size, "the failure pattern never fired").toBeGreaterThan(0);
        expect(mainTracker.notRedelivered()).toEqual([]);
        expect(mainTracker.wrongTopics, "messages carried the wrong topic").toEqual([]);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.verifyBulkRead}: every bulk entry is handled, failed entries are redelivered, batches respect maxMessagesCount`,
      async () => {
        expect(bulkExpected, "the publish case did not publish to the bulk topic").toHaveLength(N);
        await waitUntil(
          () => bulkTracker.missing(bulkExpected).length === 0,
          c.maxReadDurationMs,
          () => bulkTracker.describe(bulkExpected),
        );
        expect(bulkTracker.failed.size, "the failure pattern never fired").toBeGreaterThan(0);
        expect(bulkTracker.notRedelivered()).toEqual([]);
        expect(bulkStats.largestBatch).toBeLessThanOrEqual(BULK_MAX_MESSAGES);
        expect(bulkStats.duplicateEntryIds, "entry IDs repeated within one batch").toBe(0);
        expect(bulkTracker.wrongTopics, "batches carried the wrong topic").toEqual([]);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.stopBulkSubscriber}: after abort the bulk handler is never called again, not even for a batch still being gathered`,
      async () => {
        for (const seq of range(1900, 2)) await publish(bulkTopic, seq);
        // Abort while those messages may sit in a half-full batch, before maxAwaitDurationMs.
        await sleep(BULK_MAX_AWAIT_MS / 5);
        bulkSubscription.abort();
        await sleep(c.unsubscribeSettleMs);
        for (const seq of range(1902, 2)) await publish(bulkTopic, seq);
        await sleep(c.quietPeriodMs + BULK_MAX_AWAIT_MS);
        expect(bulkStats.callsAfterAbort, "bulk handler calls after abort").toBe(0);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.redelivery}: a message whose handler threw twice is delivered again until it succeeds`,
      async () => {
        const t = topic("redelivery");
        const attempts = new Map<number, number>();
        const done = new Set<number>();
        await subscribe(
          t,
          async (message) => {
            const seq = parsePayload(message.data, runId);
            if (seq === undefined) return;
            const n = (attempts.get(seq) ?? 0) + 1;
            attempts.set(seq, n);
            if (n <= 2) throw new Error(`conformance: deliberate failure ${n} of message ${seq}`);
            done.add(seq);
          },
          newSubscription().signal,
        );
        await sleep(c.waitBeforePublishMs);
        const seqs = range(1501, 3);
        for (const seq of seqs) await publish(t, seq);
        await waitUntil(
          () => seqs.every((s) => done.has(s)),
          c.maxReadDurationMs,
          () => `handled ${JSON.stringify([...done])}, attempts ${JSON.stringify([...attempts])}`,
        );
        for (const seq of seqs) expect(attempts.get(seq)).toBeGreaterThanOrEqual(3);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.multipleHandlers}: two subscriptions on one component each receive exactly their own topic's messages`,
      async () => {
        const topics: [string, string] = [topic("multi-1"), topic("multi-2")];
        const logs: [ArrivalLog, ArrivalLog] = [new ArrivalLog(), new ArrivalLog()];
        const subs: [AbortController, AbortController] = [newSubscription(), newSubscription()];
        await subscribe(topics[0], logTo(logs[0], subs[0].signal), subs[0].signal);
        await subscribe(topics[1], logTo(logs[1], subs[1].signal), subs[1].signal);
        multi = { topics, logs, controllers: subs };
        await sleep(c.waitBeforePublishMs);
        const seqs = range(N + 1, N);
        for (const seq of seqs) await publish(topics[seq % 2 === 0 ? 0 : 1], seq);
        const expected = [
          seqs.filter((s) => s % 2 === 0),
          seqs.filter((s) => s % 2 !== 0),
        ] as const;
        await waitUntil(
          () => logs[0].hasAll(expected[0]) && logs[1].hasAll(expected[1]),
          c.maxReadDurationMs,
          () =>
            `topic 1 got ${JSON.stringify(logs[0].sorted())}, topic 2 got ${JSON.stringify(logs[1].sorted())}`,
        );
        // Late duplicates or cross-talk would show up now.
        await sleep(c.quietPeriodMs);
        expect(logs[0].sorted()).toEqual(expected[0]);
        expect(logs[1].sorted()).toEqual(expected[1]);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.stopSubscribers}: an aborted subscription gets nothing more, the other keeps receiving, and a new one can start`,
      async () => {
        if (!multi) throw new Error("the multiple handlers case did not set up its subscriptions");
        const { topics, logs, controllers: subs } = multi;
        const k = Math.max(2, Math.ceil(N / 2));

        const round0 = [range(3001, k), range(3101, k)] as const;
        for (const seq of round0[0]) await publish(topics[0], seq);
        for (const seq of round0[1]) await publish(topics[1], seq);
        await waitUntil(
          () => logs[0].hasAll(round0[0]) && logs[1].hasAll(round0[1]),
          c.maxReadDurationMs,
          () => "round 0: both subscriptions should receive their messages",
        );

        subs[0].abort();
        await sleep(c.unsubscribeSettleMs);
        const round1 = [range(3201, k), range(3301, k)] as const;
        for (const seq of round1[0]) await publish(topics[0], seq);
        for (const seq of round1[1]) await publish(topics[1], seq);
        await waitUntil(
          () => logs[1].hasAll(round1[1]),
          c.maxReadDurationMs,
          () => `round 1: the live subscription got ${JSON.stringify(logs[1].sorted())}`,
        );
        await sleep(c.quietPeriodMs);
        expect(logs[0].callsAfterAbort, "deliveries to the aborted subscription").toBe(0);
        expect(round1[0].filter((s) => logs[0].has(s))).toEqual([]);

        subs[1].abort();
        await sleep(c.unsubscribeSettleMs);
        const round2 = range(3401, k);
        for (const seq of round2) await publish(topics[1], seq);
        await sleep(c.quietPeriodMs);
        expect(logs[1].callsAfterAbort, "deliveries to the aborted subscription").toBe(0);
        expect(round2.filter((s) => logs[1].has(s))).toEqual([]);

        // Unsubscribing is not a dead end: the topic can be subscribed to again.
        const again = new ArrivalLog();
        await subscribe(topics[0], logTo(again), newSubscription().signal);
        await sleep(c.waitBeforePublishMs);
        const round3 = range(3501, k);
        for (const seq of round3) await publish(topics[0], seq);
        await waitUntil(
          () => again.hasAll(round3),
          c.maxReadDurationMs,
          () => `a new subscription after unsubscribe got ${JSON.stringify(again.sorted())}`,
        );
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.ordering}: messages with one partition key are handled one after another in publish order (ORDERING); otherwise all arrive`,
      async () => {
        const t = topic("ordering");
        const ordered = has("ORDERING");
        const keys = [`${runId}-a`, `${runId}-b`];
        const keyOf = (seq: number): string => keys[seq % 2] as string;
        let clock = 0;
        const firsts = new Map<number, { start: number; end: number }>();
        const arrival: number[] = [];
        await subscribe(
          t,
          async (message) => {
            const seq = parsePayload(message.data, runId);
            if (seq === undefined) return;
            const start = ++clock;
            arrival.push(seq);
            // Uneven handler times expose a component that runs one key's messages concurrently.
            await sleep((seq * 7) % 5);
            if (!firsts.has(seq)) firsts.set(seq, { start, end: ++clock });
          },
          newSubscription().signal,
        );
        await sleep(c.waitBeforePublishMs);
        const seqs = range(5001, 2 * N);
        for (const seq of seqs) await publish(t, seq, c.partitionKeyMetadata(keyOf(seq)));
        await waitUntil(
          () => seqs.every((s) => firsts.has(s)),
          c.maxReadDurationMs,
          () => `received ${JSON.stringify([...firsts.keys()])}`,
        );
        if (!ordered) return;
        for (const key of keys) {
          const published = seqs.filter((s) => keyOf(s) === key);
          const firstArrivals = [...new Set(arrival.filter((s) => keyOf(s) === key))];
          expect(firstArrivals, `arrival order for partition key ${key}`).toEqual(published);
          for (let i = 1; i < published.length; i++) {
            const previous = firsts.get(published[i - 1] as number)!;
            const current = firsts.get(published[i] as number)!;
            expect(
              current.start > previous.end,
              `message ${published[i]} was handed over before message ${published[i - 1]}'s handler finished`,
            ).toBe(true);
          }
        }
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.messageTtl}: a message whose ttlInSeconds passes while nobody consumes it is never delivered (MESSAGE_TTL); otherwise ttlInSeconds is accepted`,
      async () => {
        const t = topic("ttl");
        const log = new ArrivalLog();
        if (!has("MESSAGE_TTL")) {
          await subscribe(t, logTo(log), newSubscription().signal);
          await sleep(c.waitBeforePublishMs);
          await publish(t, 7001, { ttlInSeconds: "60" });
          await waitUntil(
            () => log.has(7001),
            c.maxReadDurationMs,
            () => "a message with ttlInSeconds=60 never arrived",
          );
          return;
        }
        const [expiring, control, longLived] = [7001, 7002, 7003];
        const publishTrio = async (extra: Metadata): Promise<void> => {
          await publish(t, expiring, { ...extra, ttlInSeconds: String(TTL_SECONDS) });
          await publish(t, control, extra);
          await publish(t, longLived, { ...extra, ttlInSeconds: "3600" });
        };
        const strategy =
          c.messageTtlStrategy ?? (has("ORDERING") ? "held-partition" : "resubscribe");
        if (strategy === "held-partition") {
          const key = c.partitionKeyMetadata(`${runId}-ttl`);
          const held = gate();
          const record = logTo(log);
          await subscribe(
            t,
            async (message) => {
              await record(message);
              if (parsePayload(message.data, runId) === 7000) await held.promise;
            },
            newSubscription().signal,
          );
          try {
            await sleep(c.waitBeforePublishMs);
            await publish(t, 7000, key);
            await waitUntil(
              () => log.has(7000),
              c.maxReadDurationMs,
              () => "the holding message never arrived",
            );
            await publishTrio(key);
            await sleep(TTL_EXPIRY_WAIT_MS);
          } finally {
            held.open();
          }
        } else if (strategy === "resubscribe") {
          const first = newSubscription();
          await subscribe(t, logTo(log), first.signal);
          await sleep(c.waitBeforePublishMs);
          first.abort();
          await sleep(c.unsubscribeSettleMs);
          await publishTrio({});
          await sleep(TTL_EXPIRY_WAIT_MS);
          await subscribe(t, logTo(log), newSubscription().signal);
        } else {
          await publishTrio({});
          await sleep(TTL_EXPIRY_WAIT_MS);
          await subscribe(t, logTo(log), newSubscription().signal);
        }
        await waitUntil(
          () => log.hasAll([control, longLived]),
          c.maxReadDurationMs,
          () =>
            `(${strategy}) messages without an expired TTL never arrived; got ${JSON.stringify(log.sorted())}`,
        );
        await sleep(c.quietPeriodMs);
        expect(
          log.has(expiring),
          `(${strategy}) the message whose TTL had passed was delivered`,
        ).toBe(false);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.topicMatching}: a subscription receives only its own topic, and MQTT wildcards match (SUBSCRIBE_WILDCARDS)`,
      async () => {
        const exact = topic("match");
        const exactLog = new ArrivalLog();
        await subscribe(exact, logTo(exactLog), newSubscription().signal);
        const wildcards = has("SUBSCRIBE_WILDCARDS");
        const root = topic("wild");
        const plusLog = new ArrivalLog();
        const hashLog = new ArrivalLog();
        if (wildcards) {
          await subscribe(`${root}/+/x`, logTo(plusLog), newSubscription().signal);
          await subscribe(`${root}/#`, logTo(hashLog), newSubscription().signal);
        }
        await sleep(c.waitBeforePublishMs);
        await publish(`${exact}-other`, 8001);
        await publish(exact, 8002);
        const concrete: Record<number, string> = {
          8003: `${root}/a/x`,
          8004: `${root}/b/y`,
          8005: `${root}/a/x/z`,
        };
        if (wildcards)
          for (const [seq, t] of Object.entries(concrete)) await publish(t, Number(seq));
        await waitUntil(
          () =>
            exactLog.has(8002) &&
            (!wildcards || (plusLog.has(8003) && hashLog.hasAll([8003, 8004, 8005]))),
          c.maxReadDurationMs,
          () =>
            `exact got ${JSON.stringify(exactLog.sorted())}, '+' got ${JSON.stringify(plusLog.sorted())}, '#' got ${JSON.stringify(hashLog.sorted())}`,
        );
        await sleep(c.quietPeriodMs);
        expect(exactLog.sorted(), "an exact subscription received another topic's message").toEqual(
          [8002],
        );
        expect(exactLog.topics).toEqual([exact]);
        if (!wildcards) return;
        expect(plusLog.sorted()).toEqual([8003]);
        expect(plusLog.topics, "message.topic is the concrete topic, not the pattern").toEqual([
          concrete[8003],
        ]);
        expect(hashLog.sorted()).toEqual([8003, 8004, 8005]);
        expect(hashLog.seqs.map((seq, i) => hashLog.topics[i] === concrete[seq])).not.toContain(
          false,
        );
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.metadataRoundTrip}: publish metadata arrives in message.metadata (when the component keeps it); otherwise it is accepted`,
      async () => {
        const t = topic("metadata");
        const key = "outrig-conformance-run";
        let received: Metadata | undefined;
        await subscribe(
          t,
          async (message) => {
            if (parsePayload(message.data, runId) === 9001) received = message.metadata;
          },
          newSubscription().signal,
        );
        await sleep(c.waitBeforePublishMs);
        await publish(t, 9001, { [key]: runId });
        await waitUntil(
          () => received !== undefined,
          c.maxReadDurationMs,
          () => "the message never arrived",
        );
        expect(received).toBeTypeOf("object");
        if (c.metadataRoundTrip) expect(getMetadata(received, key)).toBe(runId);
      },
      caseTimeout,
    );

    it(
      `${PUBSUB_CASES.close}: close is idempotent, later publishes reject with a ComponentError, and a closed subscriber receives nothing`,
      async () => {
        const pubsub = need();
        const t = topic("close");
        const log = new ArrivalLog();
        await subscribe(t, logTo(log), newSubscription().signal);
        let other: PubSub | undefined;
        if (c.sharedBroker) {
          other = await c.create();
          extraClients.push(other);
        }
        await sleep(c.waitBeforePublishMs);
        await (other ?? pubsub).publish({
          topic: t,
          data: payload(runId, 9501),
          contentType: "text/plain",
        });
        await waitUntil(
          () => log.has(9501),
          c.maxReadDurationMs,
          () => "the subscription never received its first message",
        );

        await pubsub.close();
        await pubsub.close();
        const error = await publish(t, 9502).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, "publish after close must reject (ERR_CLOSED recommended)").toBeInstanceOf(
          ComponentError,
        );
        if (other) {
          await other.publish({ topic: t, data: payload(runId, 9503), contentType: "text/plain" });
          await sleep(c.quietPeriodMs);
        }
        expect(log.sorted(), "deliveries after close").toEqual([9501]);
      },
      caseTimeout,
    );
  });
}

async function expectNotSupported(
  promise: Promise<unknown>,
  operation: string,
  capability: PubSubCapability,
): Promise<void> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) {
    throw new Error(
      `${operation} resolved although ${capability} is not declared: declare the capability, or reject with ComponentError ERR_NOT_SUPPORTED`,
    );
  }
  expect(outcome.error).toBeInstanceOf(ComponentError);
  expect((outcome.error as ComponentError).code).toBe("ERR_NOT_SUPPORTED");
}
