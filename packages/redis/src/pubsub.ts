import {
  type BulkMessageHandler,
  type BulkPublishRequest,
  type BulkPublishResponse,
  type BulkSubscribeRequest,
  type ComponentContext,
  ConfigError,
  errorMessage,
  type Logger,
  type MessageHandler,
  type Metadata,
  type OptionsInput,
  type PublishRequest,
  type PubSubCapability,
  type PubSubDefinition,
  parseTtlInSeconds,
  type SubscribeRequest,
  silentLogger,
} from "@outrig/core";
import { BasePubSub, type StopFunction } from "@outrig/core/kit";
import type { Redis } from "ioredis";
import {
  checkConnectionOptions,
  clientOptions,
  connect,
  disconnect,
  pingClient,
  toComponentError,
} from "./connection.ts";
import { pubsubOptions, type RedisPubSubOptions } from "./options.ts";
import { type EntryFields, entryArgs } from "./stream-entry.ts";
import { type Delivery, StreamSubscription } from "./stream-subscription.ts";

const COMPONENT = "pubsub.redis";

const CAPABILITIES: readonly PubSubCapability[] = ["BULK_PUBSUB", "BULK_SUBSCRIBE", "MESSAGE_TTL"];

/**
 * `pubsub.redis` on Redis Streams: a topic is a stream, an app is a consumer group (its
 * consumer ID), and each subscription is one consumer of that group. Delivery is at least once:
 * a message is acknowledged only after its handler resolved, and pending messages are reclaimed
 * after `processingTimeout`.
 */
export class RedisPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly options: RedisPubSubOptions;
  readonly consumerGroup: string;
  readonly #client: Redis;
  readonly #logger: Logger;

  constructor(client: Redis, options: RedisPubSubOptions, consumerGroup: string, logger: Logger) {
    super();
    this.#client = client;
    this.options = options;
    this.consumerGroup = consumerGroup;
    this.#logger = logger;
  }

  /** The underlying ioredis client (publishing and acknowledging; reads use their own). */
  get client(): Redis {
    return this.#client;
  }

  protected override async onPing(): Promise<void> {
    await pingClient(this.#client, COMPONENT);
  }

  protected override async onClose(): Promise<void> {
    await disconnect(this.#client);
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    const args = this.#xaddArgs(request.topic, {
      data: request.data,
      ...this.#entryExtras(request.metadata, request.contentType),
    });
    try {
      await this.#client.xadd(...args);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  /** All entries in one pipeline; entries the server rejected come back in `failedEntries`. */
  protected override async publishBulk(request: BulkPublishRequest): Promise<BulkPublishResponse> {
    const failedEntries: BulkPublishResponse["failedEntries"] = [];
    const pipeline = this.#client.pipeline();
    const sent: string[] = [];
    for (const entry of request.entries) {
      try {
        const metadata = { ...request.metadata, ...entry.metadata };
        pipeline.xadd(
          ...this.#xaddArgs(request.topic, {
            data: entry.event,
            ...this.#entryExtras(metadata, entry.contentType),
          }),
        );
        sent.push(entry.entryId);
      } catch (error) {
        failedEntries.push({ entryId: entry.entryId, error: errorMessage(error) });
      }
    }
    if (sent.length === 0) return { failedEntries };
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    results?.forEach(([error], i) => {
      if (!error) return;
      const mapped = toComponentError(error, COMPONENT);
      if (mapped.code === "ERR_UNAVAILABLE") throw mapped;
      failedEntries.push({ entryId: sent[i] as string, error: mapped.message });
    });
    return { failedEntries };
  }

  protected async startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction> {
    const topic = request.topic;
    return this.#start(request, {
      mode: "single",
      handle: (entry) =>
        handler({
          topic,
          data: entry.fields.data,
          metadata: entry.fields.metadata ?? {},
          ...(entry.fields.contentType ? { contentType: entry.fields.contentType } : {}),
        }),
    });
  }

  /**
   * Native bulk subscribe: one XREADGROUP returns up to `maxMessagesCount` entries; a partial
   * batch waits at most `maxAwaitDurationMs` for more. Each entry is acknowledged by its own
   * outcome; the entry id is the stream entry id.
   */
  protected override async startBulkSubscription(
    request: BulkSubscribeRequest,
    handler: BulkMessageHandler,
  ): Promise<StopFunction> {
    const maxCount =
      request.maxMessagesCount && request.maxMessagesCount > 0 ? request.maxMessagesCount : 100;
    const maxAwaitMs =
      request.maxAwaitDurationMs && request.maxAwaitDurationMs > 0
        ? request.maxAwaitDurationMs
        : 1000;
    return this.#start(request, {
      mode: "batch",
      maxCount,
      maxAwaitMs,
      handle: async (entries) => {
        const statuses = await handler({
          topic: request.topic,
          metadata: { ...request.metadata },
          entries: entries.map((e) => ({
            entryId: e.id,
            event: e.fields.data,
            metadata: e.fields.metadata ?? {},
            ...(e.fields.contentType ? { contentType: e.fields.contentType } : {}),
          })),
        });
        return new Set(statuses.filter((s) => !s.error).map((s) => s.entryId));
      },
    });
  }

  async #start(request: SubscribeRequest, delivery: Delivery): Promise<StopFunction> {
    const signal = request.signal ?? new AbortController().signal;
    const subscription = new StreamSubscription(
      this.#client,
      {
        topic: request.topic,
        group: this.consumerGroup,
        processingTimeoutMs: this.options.processingTimeout ?? 15_000,
        redeliverIntervalMs: this.options.redeliverInterval ?? 60_000,
        queueDepth: this.options.queueDepth ?? 100,
        concurrency: this.options.concurrency ?? 10,
        readTimeoutMs: this.options.readTimeout ?? 3000,
        logger: this.#logger,
      },
      delivery,
      signal,
    );
    await subscription.start();
    return () => subscription.stop();
  }

  #entryExtras(
    metadata: Metadata | undefined,
    contentType: string | undefined,
  ): Omit<EntryFields, "data"> {
    const ttl = parseTtlInSeconds(metadata);
    return {
      ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(contentType ? { contentType } : {}),
      ...(ttl !== undefined && ttl > 0 ? { expiration: Date.now() + ttl * 1000 } : {}),
    };
  }

  #xaddArgs(topic: string, fields: EntryFields): [string, ...(string | Buffer)[]] {
    // One trim strategy per XADD: a length bound, else an age bound (entry ids start with their ms).
    const trim = this.options.maxLenApprox
      ? ["MAXLEN", "~", String(this.options.maxLenApprox)]
      : this.options.streamTTL
        ? ["MINID", "~", String(Math.max(0, Date.now() - this.options.streamTTL))]
        : [];
    return [topic, ...trim, "*", ...entryArgs(fields)];
  }
}

/** `createRedisPubSub`'s options: the YAML metadata fields, typed; an unknown one is a ConfigError. */
export type RedisPubSubMetadata = OptionsInput<typeof pubsubOptions.fields>;

/** Library mode: createRedisPubSub from typed options named as in the YAML. */
export async function createRedisPubSub(
  options: RedisPubSubMetadata,
  context: ComponentContext = {},
): Promise<RedisPubSub> {
  return openRedisPubSub(pubsubOptions.fromOptions(options), context);
}

/**
 * Creates `pubsub.redis` from Dapr metadata and connects. The consumer group is `consumerID`,
 * else the app ID the host passes in; without either, init fails: a group name must stay the
 * same across restarts for pending messages to be picked up again.
 */
export async function openRedisPubSub(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RedisPubSub> {
  const options = pubsubOptions.parse(metadata);
  const address = checkConnectionOptions(options, COMPONENT);
  const group = options.consumerID || context.appId;
  if (!group) {
    throw new ConfigError(
      [
        {
          field: "consumerID",
          message: "is required when the host passes no app ID (it names the consumer group)",
        },
      ],
      { component: COMPONENT },
    );
  }
  const client = await connect(
    clientOptions(options, address, `outrig:${COMPONENT}:${context.name ?? "pubsub"}`),
    COMPONENT,
  );
  return new RedisPubSub(client, options, group, context.logger ?? silentLogger);
}

export const pubsubDefinition: PubSubDefinition = {
  type: COMPONENT,
  kind: "pubsub",
  version: "v1",
  status: "beta",
  description:
    "Redis Streams pub/sub: consumer groups, acknowledgement after the handler, reclaim of pending messages",
  capabilities: CAPABILITIES,
  options: pubsubOptions,
  create: openRedisPubSub,
};
