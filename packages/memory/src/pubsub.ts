import { randomUUID } from "node:crypto";
import {
  type BulkMessageHandler,
  type BulkPublishRequest,
  type BulkPublishResponse,
  type BulkSubscribeRequest,
  type ComponentContext,
  errorMessage,
  getMetadata,
  type Logger,
  type MessageHandler,
  type Metadata,
  type OptionsInput,
  type PublishRequest,
  type PubSubCapability,
  type PubSubDefinition,
  type SubscribeRequest,
  silentLogger,
} from "@outrig/core";
import { BasePubSub, componentErrors, type StopFunction } from "@outrig/core/kit";
import {
  type MemoryPubSubOptions,
  memoryPubSubOptions,
  redeliveryDelay,
} from "./pubsub-options.ts";
import {
  BulkSubscription,
  type Envelope,
  MessageSubscription,
  type Subscription,
  type SubscriptionSettings,
} from "./pubsub-subscription.ts";
import { checkTopicFilter, topicMatcher } from "./pubsub-topic.ts";
import { messageExpiry } from "./pubsub-ttl.ts";

export type { MemoryPubSubOptions } from "./pubsub-options.ts";

const COMPONENT = "pubsub.in-memory";

const CAPABILITIES: readonly PubSubCapability[] = [
  "BULK_PUBSUB",
  "BULK_SUBSCRIBE",
  "MESSAGE_TTL",
  "ORDERING",
  "SUBSCRIBE_WILDCARDS",
];

/**
 * Dapr's `pubsub.in-memory`: topics live in this process, every subscription gets every message
 * of its topic (fan-out), nothing is kept for topics nobody subscribes to, and everything is lost
 * on close. Delivery is at least once: a handler that throws gets the message again after a
 * backoff. Messages with the same `partitionKey` are handled one at a time in publish order.
 */
export class MemoryPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly #options: MemoryPubSubOptions;
  readonly #logger: Logger;
  /** The running subscriptions a message is routed to; the base stops them. */
  readonly #subscriptions = new Set<Subscription>();

  constructor(options: Partial<MemoryPubSubOptions> = {}, context: ComponentContext = {}) {
    super();
    this.#options = Object.freeze({ ...memoryPubSubOptions.parse({}), ...options });
    this.#logger = context.logger ?? silentLogger;
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    this.#route(this.#envelope(request.topic, request.data, request.metadata, request.contentType));
  }

  /** Every entry is checked before any is published, so a bad entry never half-publishes a call. */
  protected override async publishBulk(request: BulkPublishRequest): Promise<BulkPublishResponse> {
    const ids = new Set<string>();
    for (const entry of request.entries) {
      if (!entry.entryId) throw invalid("every bulk publish entry needs a non-empty entryId");
      if (ids.has(entry.entryId))
        throw invalid(`duplicate entryId ${JSON.stringify(entry.entryId)}`);
      ids.add(entry.entryId);
    }
    const failedEntries: BulkPublishResponse["failedEntries"] = [];
    const envelopes: Envelope[] = [];
    for (const entry of request.entries) {
      try {
        envelopes.push(
          this.#envelope(
            request.topic,
            entry.event,
            { ...request.metadata, ...entry.metadata },
            entry.contentType,
          ),
        );
      } catch (error) {
        failedEntries.push({ entryId: entry.entryId, error: errorMessage(error) });
      }
    }
    for (const envelope of envelopes) this.#route(envelope);
    return { failedEntries };
  }

  protected async startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction> {
    checkFilter(request.topic);
    return this.#add(
      new MessageSubscription(
        this.#settings(request.topic),
        handler,
        this.#options.concurrencyMode,
      ),
    );
  }

  protected override async startBulkSubscription(
    request: BulkSubscribeRequest,
    handler: BulkMessageHandler,
  ): Promise<StopFunction> {
    checkFilter(request.topic);
    const subscription = new BulkSubscription(this.#settings(request.topic), handler, {
      topic: request.topic,
      metadata: { ...request.metadata },
      maxMessagesCount:
        request.maxMessagesCount && request.maxMessagesCount > 0 ? request.maxMessagesCount : 100,
      maxAwaitDurationMs:
        request.maxAwaitDurationMs && request.maxAwaitDurationMs > 0
          ? request.maxAwaitDurationMs
          : 1000,
    });
    return this.#add(subscription);
  }

  #envelope(
    topic: string,
    data: Uint8Array,
    metadata: Metadata | undefined,
    contentType: string | undefined,
  ): Envelope {
    if (!(data instanceof Uint8Array)) throw invalid("message data must be a Uint8Array");
    const meta = { ...metadata };
    return {
      id: randomUUID(),
      topic,
      // Copied so the publisher may reuse its buffer.
      data: new Uint8Array(data),
      metadata: meta,
      contentType,
      expiresAt: messageExpiry(meta, Date.now()),
      partitionKey: getMetadata(meta, "partitionKey") || undefined,
    };
  }

  #route(envelope: Envelope): void {
    for (const subscription of this.#subscriptions) {
      if (subscription.matches(envelope.topic)) subscription.enqueue(envelope);
    }
  }

  #settings(filter: string): SubscriptionSettings {
    return {
      matches: topicMatcher(filter),
      backoff: (attempt) => redeliveryDelay(this.#options, attempt),
      logger: this.#logger,
    };
  }

  #add(subscription: Subscription): StopFunction {
    this.#subscriptions.add(subscription);
    return () => {
      subscription.end();
      this.#subscriptions.delete(subscription);
    };
  }
}

const errors = componentErrors(COMPONENT);
const invalid = errors.invalid;

function checkFilter(filter: string): void {
  const problem = checkTopicFilter(filter);
  if (problem) throw invalid(problem);
}

/** `createMemoryPubSub`'s options: the YAML metadata fields, typed; an unknown one is a ConfigError. */
export type MemoryPubSubMetadata = OptionsInput<typeof memoryPubSubOptions.fields>;

/** Library mode: createMemoryPubSub from typed options named as in the YAML. */
export async function createMemoryPubSub(
  options: MemoryPubSubMetadata,
  context: ComponentContext = {},
): Promise<MemoryPubSub> {
  return openMemoryPubSub(memoryPubSubOptions.fromOptions(options), context);
}

/** Creates the component from Dapr metadata (`concurrencyMode`, `redeliverInterval`, ...). */
export async function openMemoryPubSub(
  metadata: Metadata = {},
  context: ComponentContext = {},
): Promise<MemoryPubSub> {
  return new MemoryPubSub(memoryPubSubOptions.parse(metadata), context);
}

export const pubsubDefinition: PubSubDefinition = {
  type: COMPONENT,
  kind: "pubsub",
  version: "v1",
  status: "stable",
  description:
    "In-process pub/sub with fan-out, at-least-once redelivery, per-key ordering and message TTL",
  capabilities: CAPABILITIES,
  options: memoryPubSubOptions,
  create: openMemoryPubSub,
};
