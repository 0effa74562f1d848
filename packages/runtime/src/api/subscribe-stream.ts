import type { Logger, Metadata } from "@outrig/core";
import type { Outcome } from "../app/callbacks.ts";
import type { EventSink, Subscriber, Subscription } from "../messaging/subscriptions.ts";
import type { SidecarTracing } from "../tracing/sidecar-tracing.ts";
import { tracedSink } from "../tracing/traced-callbacks.ts";
import type { ApiContext } from "./context.ts";
import { apiError } from "./errors.ts";
import { requirePubsub } from "./pubsub.ts";

/** Messages a stream may hold unacknowledged before the next one waits (per stream). */
export const DEFAULT_STREAM_MAX_UNACKED = 100;

/** The first message of a stream (SubscribeTopicEventsRequestInitialAlpha1). */
export interface StreamInitialRequest {
  pubsubName?: string | undefined;
  topic?: string | undefined;
  metadata?: Metadata | undefined;
  deadLetterTopic?: string | null | undefined;
}

/** One message as a stream carries it (TopicEventRequest). */
export interface StreamEvent {
  id: string;
  source: string;
  type: string;
  specVersion: string;
  dataContentType: string;
  data: Uint8Array;
  topic: string;
  pubsubName: string;
  path: string;
  /** The CloudEvent's other attributes, as daprd passes them on. */
  extensions: Record<string, unknown>;
}

/** The path daprd gives a streaming subscription's one rule. */
const STREAM_PATH = "/";

/** Attributes carried in their own TopicEventRequest fields, so not among the extensions. */
const OWN_FIELDS = new Set([
  "id",
  "source",
  "type",
  "specversion",
  "datacontenttype",
  "data",
  "data_base64",
]);

function text(value: unknown): string {
  return typeof value === "string" ? value : value === undefined ? "" : String(value);
}

/** A delivered CloudEvent as a TopicEventRequest, as daprd builds it. */
export function streamEventOf(event: Record<string, unknown>, pubsubName: string): StreamEvent {
  let data: Uint8Array;
  if (typeof event.data_base64 === "string") data = Buffer.from(event.data_base64, "base64");
  else if (event.data === undefined) data = new Uint8Array();
  else if (typeof event.data === "string") data = Buffer.from(event.data, "utf8");
  else data = Buffer.from(JSON.stringify(event.data), "utf8");
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) if (!OWN_FIELDS.has(k)) extensions[k] = v;
  return {
    id: text(event.id),
    source: text(event.source),
    type: text(event.type),
    specVersion: text(event.specversion),
    dataContentType: text(event.datacontenttype),
    data,
    topic: text(event.topic),
    pubsubName: text(event.pubsubname) || pubsubName,
    path: STREAM_PATH,
    extensions,
  };
}

/** Reads an acknowledgement's status as daprd does: an absent status is SUCCESS. */
export function streamOutcome(status: unknown): Outcome {
  const s = String(status ?? "SUCCESS").toUpperCase();
  if (s === "SUCCESS" || s === "RETRY" || s === "DROP") return s;
  throw apiError("STREAM_MALFORMED_ACK", { detail: `unknown status ${JSON.stringify(status)}` });
}

class StreamEnded extends Error {
  constructor(pubsub: string, topic: string) {
    super(
      `the stream of pubsub ${pubsub} topic ${topic} ended; the message goes back to the broker`,
    );
  }
}

/**
 * One open stream: sends each message, waits for its acknowledgement by id, and holds at most
 * `maxUnacked` messages unacknowledged. When it closes, the messages waiting for an answer are
 * given back to the broker (redelivered as the broker does), never dead-lettered.
 */
export class StreamSession {
  readonly subscription: Subscription;
  readonly #send: (event: StreamEvent) => void;
  readonly #maxUnacked: number;
  readonly #abort = new AbortController();
  readonly #pending = new Map<string, { settle: (o: Outcome) => void; fail: (e: Error) => void }>();
  readonly #slotWaiters: { resume: () => void; fail: (e: Error) => void }[] = [];
  readonly #started: Promise<void>;
  #start: () => void = () => {};

  constructor(subscription: Subscription, send: (event: StreamEvent) => void, maxUnacked: number) {
    this.subscription = subscription;
    this.#send = send;
    this.#maxUnacked = Math.max(1, maxUnacked);
    this.#started = new Promise((resolve) => {
      this.#start = resolve;
    });
  }

  /** Aborts when the stream has ended, for whatever reason. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Lets messages flow; the transport calls it once it has sent its initial response. */
  start(): void {
    this.#start();
  }

  readonly sink: EventSink = async (event) => {
    await this.#started;
    const ended = () => new StreamEnded(this.subscription.pubsubname, this.subscription.topic);
    if (this.signal.aborted) throw ended();
    while (this.#pending.size >= this.#maxUnacked) {
      await new Promise<void>((resume, fail) => this.#slotWaiters.push({ resume, fail }));
    }
    const message = streamEventOf(event, this.subscription.pubsubname);
    // A redelivered copy may still be awaiting its answer: the ids on a stream stay unique.
    while (this.#pending.has(message.id)) {
      await new Promise<void>((resume, fail) => this.#slotWaiters.push({ resume, fail }));
    }
    const answer = new Promise<Outcome>((settle, fail) =>
      this.#pending.set(message.id, { settle, fail }),
    );
    try {
      this.#send(message);
      return await answer;
    } finally {
      this.#pending.delete(message.id);
      for (const w of this.#slotWaiters.splice(0)) w.resume();
    }
  };

  /** An acknowledgement from the client; an id not awaited (already answered) is ignored. */
  processed(id: string | undefined, status: unknown): boolean {
    const outcome = streamOutcome(status);
    const waiting = id === undefined ? undefined : this.#pending.get(id);
    if (!waiting) return false;
    waiting.settle(outcome);
    return true;
  }

  /** Ends the stream: unanswered messages go back to the broker. */
  close(): void {
    if (this.signal.aborted) return;
    this.#abort.abort();
    this.#start();
    const error = new StreamEnded(this.subscription.pubsubname, this.subscription.topic);
    for (const p of this.#pending.values()) p.fail(error);
    for (const w of this.#slotWaiters.splice(0)) w.fail(error);
  }
}

/**
 * The sidecar's streaming subscriptions (SubscribeTopicEventsAlpha1): at most one stream per
 * pubsub and topic, as daprd; each delivered by the shared Subscriber with the stream as its sink.
 */
export class StreamingSubscriptions {
  readonly #subscriber: Subscriber;
  readonly #logger: Logger;
  readonly #maxUnacked: number;
  readonly #open = new Map<string, StreamSession>();
  /** Each stream's broker subscription, apart from the stream: hot reload moves it. */
  readonly #brokers = new WeakMap<StreamSession, AbortController>();

  /** Traces each message (a `pubsub/<topic>` span); absent while tracing is off. */
  readonly #tracing: SidecarTracing | undefined;

  constructor(
    subscriber: Subscriber,
    logger: Logger,
    maxUnacked = DEFAULT_STREAM_MAX_UNACKED,
    tracing?: SidecarTracing,
  ) {
    this.#subscriber = subscriber;
    this.#logger = logger;
    this.#maxUnacked = maxUnacked;
    this.#tracing = tracing;
  }

  /** The open streams' subscriptions, for the metadata API. */
  list(): Subscription[] {
    return [...this.#open.values()].map((s) => s.subscription);
  }

  /**
   * Validates the initial request, refuses a second stream for the same pubsub and topic, and
   * subscribes; resolves once the broker subscription is established. Messages wait until the
   * session is started. The subscription ends when the session closes.
   */
  async open(
    ctx: ApiContext,
    initial: StreamInitialRequest | null | undefined,
    send: (event: StreamEvent) => void,
  ): Promise<StreamSession> {
    if (!initial) throw apiError("STREAM_INITIAL_REQUIRED");
    if (!initial.pubsubName) throw apiError("STREAM_PUBSUB_REQUIRED");
    if (!initial.topic) throw apiError("STREAM_TOPIC_REQUIRED");
    requirePubsub(ctx, initial.pubsubName, initial.topic);
    const key = `${initial.pubsubName}\u0000${initial.topic}`;
    if (this.#open.has(key)) {
      throw apiError("STREAM_ALREADY_SUBSCRIBED", {
        pubsub: initial.pubsubName,
        topic: initial.topic,
      });
    }
    const subscription: Subscription = {
      pubsubname: initial.pubsubName,
      topic: initial.topic,
      rules: [{ match: "", path: STREAM_PATH }],
      deadLetterTopic: initial.deadLetterTopic || undefined,
      metadata: { ...(initial.metadata ?? {}) },
      bulkSubscribe: undefined,
      type: "STREAMING",
    };
    const session = new StreamSession(subscription, send, this.#maxUnacked);
    this.#open.set(key, session);
    session.signal.addEventListener("abort", () => {
      if (this.#open.get(key) === session) this.#open.delete(key);
      this.#logger.info("unsubscribed from pubsub topic", {
        pubsubname: subscription.pubsubname,
        topic: subscription.topic,
      });
    });
    try {
      await this.#subscribe(session);
    } catch (error) {
      session.close();
      throw error;
    }
    this.#logger.info("subscribed to pubsub topic (stream)", {
      pubsubname: subscription.pubsubname,
      topic: subscription.topic,
    });
    return session;
  }

  async #subscribe(session: StreamSession): Promise<void> {
    const broker = new AbortController();
    this.#brokers.set(session, broker);
    const topic = session.subscription.topic;
    await this.#subscriber.stream(
      session.subscription,
      this.#tracing ? tracedSink(session.sink, topic, this.#tracing) : session.sink,
      AbortSignal.any([session.signal, broker.signal]),
    );
  }

  /**
   * Moves the streams of `pubsubname` to the instance the runtime has now (hot reload replaced
   * it): the old broker subscription ends, messages awaiting an answer keep waiting for it. A
   * stream whose pubsub is gone, or that cannot subscribe again, ends.
   */
  async resubscribe(pubsubname: string): Promise<void> {
    const sessions = [...this.#open.values()].filter(
      (s) => s.subscription.pubsubname === pubsubname,
    );
    await Promise.all(
      sessions.map(async (session) => {
        this.#brokers.get(session)?.abort();
        try {
          await this.#subscribe(session);
        } catch (error) {
          this.#logger.warn("stream ended: its pubsub changed and it cannot subscribe again", {
            pubsubname,
            topic: session.subscription.topic,
            error: (error as Error).message,
          });
          session.close();
        }
      }),
    );
  }

  /** Closes every stream (sidecar shutdown). */
  stop(): void {
    for (const s of [...this.#open.values()]) s.close();
  }
}
