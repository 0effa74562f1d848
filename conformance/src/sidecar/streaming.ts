import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../testing/wait.ts";
import type { SidecarComponent, SidecarUnderTest } from "./config.ts";
import { call } from "./http.ts";

/** One TopicEventRequest as a proto-loaded client decodes it (camelCase fields). */
export interface StreamedEvent {
  id: string;
  source: string;
  type: string;
  specVersion: string;
  dataContentType: string;
  data: Uint8Array;
  topic: string;
  pubsubName: string;
  path: string;
}

/**
 * The client side of `SubscribeTopicEventsAlpha1`, e.g. a `@grpc/grpc-js` client's duplex call:
 * messages written and read as proto-loader objects (`initialRequest`, `eventProcessed`, and
 * `initialResponse`, `eventMessage` back).
 */
export interface TopicEventsStream {
  write(message: unknown): unknown;
  on(event: "data", listener: (message: Record<string, unknown>) => void): unknown;
  on(
    event: "error",
    listener: (error: Error & { code?: number; details?: string }) => void,
  ): unknown;
  on(event: "end", listener: () => void): unknown;
  cancel(): void;
  end(): void;
}

export interface StreamingSidecar extends SidecarUnderTest {
  openStream(): TopicEventsStream;
}

export interface StreamingSubscriptionConformanceConfig {
  /** Shown in test names. */
  name: string;
  /** Loaded as component `pubsub`. It must hand several messages to a subscription at once. */
  pubsub: SidecarComponent;
  /** Starts a sidecar with these resources and this limit of unacknowledged messages per stream. */
  startSidecar(options: {
    appId: string;
    resources: string;
    streamMaxUnacked: number;
  }): Promise<StreamingSidecar>;
  /**
   * The broker keeps a subscription's messages while no stream is open (a durable queue), so a
   * message left unacknowledged when a stream ends, or published between two streams, reaches the
   * next stream; otherwise (in-memory fan-out) it is gone with the subscription.
   */
  keepsMessagesBetweenStreams: boolean;
  /** Pause after a stream opened before publishing (consumer attach). Default 0. */
  waitAfterSubscribeMs?: number;
}

const MAX_UNACKED = 2;
const DELIVERY_TIMEOUT_MS = 15_000;
/** How long "nothing more arrives" is watched for. */
const QUIET_MS = 700;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream with what it received, and helpers to subscribe and acknowledge. */
class Client {
  readonly events: StreamedEvent[] = [];
  readonly opened: Promise<void>;
  readonly failed: Promise<Error & { code?: number; details?: string }>;
  readonly #stream: TopicEventsStream;
  #initial = 0;

  constructor(stream: TopicEventsStream) {
    this.#stream = stream;
    let open: () => void = () => {};
    this.opened = new Promise((r) => {
      open = r;
    });
    this.failed = new Promise((r) => stream.on("error", r));
    // A cancelled stream ends with an error on the client side: nothing to do.
    this.failed.catch(() => {});
    stream.on("data", (m) => {
      if (m.initialResponse) {
        this.#initial++;
        open();
      }
      if (m.eventMessage) this.events.push(m.eventMessage as unknown as StreamedEvent);
    });
  }

  get initialResponses(): number {
    return this.#initial;
  }

  subscribe(topic: string, deadLetterTopic?: string, pubsubName = "pubsub"): this {
    this.#stream.write({
      initialRequest: {
        pubsubName,
        topic,
        metadata: {},
        ...(deadLetterTopic ? { deadLetterTopic } : {}),
      },
    });
    return this;
  }

  ack(id: string, status: "SUCCESS" | "RETRY" | "DROP" = "SUCCESS"): void {
    this.#stream.write({ eventProcessed: { id, status: { status } } });
  }

  write(message: unknown): void {
    this.#stream.write(message);
  }

  cancel(): void {
    this.#stream.cancel();
  }

  next(index: number): Promise<StreamedEvent> {
    return waitFor(
      () => this.events[index],
      DELIVERY_TIMEOUT_MS,
      `message #${index + 1} on the stream`,
    );
  }
}

const json = (e: StreamedEvent): unknown => JSON.parse(Buffer.from(e.data).toString("utf8"));

/**
 * Streaming subscriptions (gRPC SubscribeTopicEventsAlpha1) through a sidecar against a real
 * pub/sub component: subscribe at run time, per-message acknowledgement, RETRY redelivers, DROP
 * dead-letters, one stream per topic, the limit of unacknowledged messages, the stream's end
 * closing the subscription, and daprd's refusals.
 */
export function describeStreamingSubscriptionConformance(
  config: StreamingSubscriptionConformanceConfig,
): void {
  describe(`streaming subscriptions: ${config.name}`, async () => {
    const runId = randomUUID().slice(0, 8);
    const metadata = Object.entries(config.pubsub.metadata ?? {});
    const resources = [
      "apiVersion: dapr.io/v1alpha1",
      "kind: Component",
      "metadata:",
      "  name: pubsub",
      "spec:",
      `  type: ${config.pubsub.type}`,
      `  version: ${config.pubsub.version ?? "v1"}`,
      ...(metadata.length > 0 ? ["  metadata:"] : []),
      ...metadata.flatMap(([k, v]) => [
        `    - name: ${k}`,
        `      value: ${JSON.stringify(v.replaceAll("{runId}", runId))}`,
      ]),
    ].join("\n");
    const sidecar = await config.startSidecar({
      appId: `stream-${runId}`,
      resources,
      streamMaxUnacked: MAX_UNACKED,
    });
    const clients: Client[] = [];
    afterAll(async () => {
      for (const c of clients) c.cancel();
      await sidecar.stop();
    });
    const open = (): Client => {
      const c = new Client(sidecar.openStream());
      clients.push(c);
      return c;
    };
    const topic = (name: string) => `${name}-${runId}`;
    const subscribed = async (t: string, deadLetterTopic?: string): Promise<Client> => {
      const c = open().subscribe(t, deadLetterTopic);
      await c.opened;
      if (config.waitAfterSubscribeMs) await sleep(config.waitAfterSubscribeMs);
      return c;
    };
    const publish = async (t: string, data: unknown): Promise<void> => {
      const reply = await call(sidecar.url, "POST", `/v1.0/publish/pubsub/${t}`, data);
      expect(reply.status).toBe(204);
    };
    const listed = async (): Promise<{ topic: string; type: string; rules: unknown }[]> => {
      const reply = await call(sidecar.url, "GET", "/v1.0/metadata");
      return (reply.json as { subscriptions: { topic: string; type: string; rules: unknown }[] })
        .subscriptions;
    };

    /** Waits until the sidecar no longer lists a stream for `t` (its end is asynchronous). */
    const unlisted = async (t: string): Promise<void> => {
      const end = Date.now() + DELIVERY_TIMEOUT_MS;
      while ((await listed()).some((s) => s.topic === t) && Date.now() < end) await sleep(50);
    };

    it("an acknowledged message is delivered once, as a CloudEvent, after the initial response", async () => {
      const t = topic("ack");
      const c = await subscribed(t);
      expect(c.initialResponses).toBe(1);
      await publish(t, { order: 1 });
      const first = await c.next(0);
      expect(json(first)).toEqual({ order: 1 });
      expect(first).toMatchObject({
        topic: t,
        pubsubName: "pubsub",
        specVersion: "1.0",
        type: "com.dapr.event.sent",
        dataContentType: "application/json",
        path: "/",
      });
      expect(first.id).not.toBe("");
      c.ack(first.id);
      await publish(t, { order: 2 });
      c.ack((await c.next(1)).id);
      await sleep(QUIET_MS);
      expect(c.events.map(json)).toEqual([{ order: 1 }, { order: 2 }]);
    });

    it("the stream is listed in /v1.0/metadata as STREAMING while it is open, and not after", async () => {
      const t = topic("meta");
      const c = await subscribed(t);
      expect((await listed()).find((s) => s.topic === t)).toEqual(
        expect.objectContaining({ topic: t, type: "STREAMING", rules: [{ path: "/" }] }),
      );
      c.cancel();
      await unlisted(t);
      expect((await listed()).some((s) => s.topic === t)).toBe(false);
    });

    it("a second stream for the same pubsub and topic is refused as daprd; once the first ends, a new one opens", async () => {
      const t = topic("dupe");
      const first = await subscribed(t);
      const second = open().subscribe(t);
      const error = await second.failed;
      expect(error.code).toBe(6); // ALREADY_EXISTS
      expect(error.details).toContain(`already subscribed to pubsub "pubsub" topic "${t}"`);
      first.cancel();
      await unlisted(t);
      const third = await subscribed(t);
      await publish(t, { again: true });
      expect(json(await third.next(0))).toEqual({ again: true });
    });

    it("RETRY redelivers the message on the stream", async () => {
      const t = topic("retry");
      const c = await subscribed(t);
      await publish(t, { retry: 1 });
      const first = await c.next(0);
      c.ack(first.id, "RETRY");
      const again = await c.next(1);
      expect(again.id).toBe(first.id);
      expect(json(again)).toEqual({ retry: 1 });
      c.ack(again.id);
      await sleep(QUIET_MS);
      expect(c.events).toHaveLength(2);
    });

    it("DROP sends the message to the dead-letter topic of the initial request", async () => {
      const t = topic("drop");
      const dlq = topic("drop-dlq");
      const dead = await subscribed(dlq);
      const c = await subscribed(t, dlq);
      await publish(t, { drop: 1 });
      const first = await c.next(0);
      c.ack(first.id, "DROP");
      const lettered = await dead.next(0);
      expect(json(lettered)).toEqual({ drop: 1 });
      expect(lettered.id).toBe(first.id);
      dead.ack(lettered.id);
      await sleep(QUIET_MS);
      expect(c.events).toHaveLength(1);
    });

    it(`at most ${MAX_UNACKED} messages wait for an acknowledgement; acknowledging one lets the next through`, async () => {
      const t = topic("window");
      const c = await subscribed(t);
      for (let i = 0; i < MAX_UNACKED + 2; i++) await publish(t, { i });
      await c.next(MAX_UNACKED - 1);
      await sleep(QUIET_MS);
      expect(c.events).toHaveLength(MAX_UNACKED);
      c.ack((c.events[0] as StreamedEvent).id);
      await c.next(MAX_UNACKED);
      for (const e of c.events.slice(1)) c.ack(e.id);
      await c.next(MAX_UNACKED + 1);
      c.ack((c.events[MAX_UNACKED + 1] as StreamedEvent).id);
      expect(c.events.map(json)).toEqual(
        expect.arrayContaining(Array.from({ length: MAX_UNACKED + 2 }, (_, i) => ({ i }))),
      );
    });

    it(
      config.keepsMessagesBetweenStreams
        ? "the stream's end stops deliveries to it; its unacknowledged message and one published meanwhile reach the next stream, not the dead-letter topic"
        : "the stream's end stops deliveries to it; its unacknowledged message is not dead-lettered",
      async () => {
        const t = topic("end");
        const dlq = topic("end-dlq");
        const dead = await subscribed(dlq);
        const c = await subscribed(t, dlq);
        await publish(t, { pending: 1 });
        const pending = await c.next(0);
        c.cancel();
        await unlisted(t);
        await publish(t, { meanwhile: 1 });
        await sleep(QUIET_MS);
        expect(c.events).toHaveLength(1);
        if (config.keepsMessagesBetweenStreams) {
          const next = await subscribed(t, dlq);
          const a = await next.next(0);
          const b = await next.next(1);
          expect([a, b].map(json)).toEqual(
            expect.arrayContaining([{ pending: 1 }, { meanwhile: 1 }]),
          );
          expect([a.id, b.id]).toContain(pending.id);
          next.ack(a.id);
          next.ack(b.id);
        }
        await sleep(QUIET_MS);
        expect(dead.events).toHaveLength(0);
      },
    );

    it("refuses what daprd refuses: no initial request, no pubsub name, no topic, an unknown pubsub, a second initial request", async () => {
      const noInitial = open();
      noInitial.write({ eventProcessed: { id: "x", status: { status: "SUCCESS" } } });
      expect((await noInitial.failed).details).toContain("initial request is required");
      const noPubsub = open().subscribe(topic("x"), undefined, "");
      const e1 = await noPubsub.failed;
      expect(e1.code).toBe(3); // INVALID_ARGUMENT
      expect(e1.details).toContain("pubsubName name is required");
      const noTopic = open().subscribe("");
      expect((await noTopic.failed).details).toContain("topic is required");
      const unknown = open().subscribe(topic("x"), undefined, "nope");
      const e2 = await unknown.failed;
      expect(e2.code).toBe(3);
      expect(e2.details).toContain("pubsub nope is not found");
      const twice = await subscribed(topic("twice"));
      twice.subscribe(topic("twice-b"));
      expect((await twice.failed).details).toContain("duplicate initial request received");
    });
  });
}
