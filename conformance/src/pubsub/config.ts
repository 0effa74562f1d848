import type { Metadata, PubSub } from "@outrig/core";

/**
 * How the MESSAGE_TTL case makes a message wait, undelivered, until its TTL has passed. A broker
 * drops an expired message either at the head of its queue or when handing it out, so the message
 * has to sit somewhere while nobody consumes it:
 * - `held-partition`: a handler holds an earlier message with the same partition key, and the TTL
 *   message queues behind it (needs ORDERING; the in-memory pub/sub, Kafka, MQTT);
 * - `resubscribe`: subscribe, unsubscribe, publish, wait, subscribe again (brokers that keep
 *   messages for a departed consumer: RabbitMQ durable queues, Kafka and Redis consumer groups);
 * - `before-subscribe`: publish before the first subscription exists (brokers that keep messages
 *   nobody has asked for yet, e.g. Kafka reading from the oldest offset).
 */
export type MessageTtlStrategy = "held-partition" | "resubscribe" | "before-subscribe";

export interface PubSubConformanceConfig {
  /** Shown in test names, e.g. `rabbitmq-durable` or `memory-single`. */
  name: string;
  /** Creates an initialised component. Called once per suite, and again for a second client when `sharedBroker`. */
  create: () => Promise<PubSub>;
  /** Sent with every publish and bulk publish. */
  publishMetadata?: Metadata;
  /** Sent with every subscribe and bulk subscribe. */
  subscribeMetadata?: Metadata;
  /** N in Dapr's suite: messages per publish round. Default 10. */
  messageCount?: number;
  /** How long every expected message may take to be handled. Default 60 s. */
  maxReadDurationMs?: number;
  /** Pause between subscribing and publishing, for brokers whose subscriptions settle asynchronously (Kafka rebalances). Default 5 s. */
  waitBeforePublishMs?: number;
  /** How long a handler sleeps before failing on purpose, so a batch builds up behind it. Default 1 s. */
  failureSleepMs?: number;
  /** How long to watch for a message that must NOT arrive (after unsubscribe, after TTL, duplicates). Default 1 s. */
  quietPeriodMs?: number;
  /** Pause after aborting a subscription before publishing again. Default 1 s. */
  unsubscribeSettleMs?: number;
  /** Publish metadata that puts a message on ordering key `key`. Default `{ partitionKey: key }`. */
  partitionKeyMetadata?: (key: string) => Metadata;
  /** See {@link MessageTtlStrategy}. Default `held-partition` when ORDERING is declared, else `resubscribe`. */
  messageTtlStrategy?: MessageTtlStrategy;
  /** Publish metadata keys arrive in `message.metadata` (Kafka and RabbitMQ headers do; MQTT 3 cannot). Default false. */
  metadataRoundTrip?: boolean;
  /**
   * Two components from `create()` reach the same topics (true for every network broker; false
   * for in-process ones). The close case then publishes from a second client and checks that the
   * closed one receives nothing. Default true.
   */
  sharedBroker?: boolean;
}

export type ResolvedConfig = Required<
  Omit<PubSubConformanceConfig, "publishMetadata" | "subscribeMetadata" | "messageTtlStrategy">
> &
  Pick<PubSubConformanceConfig, "messageTtlStrategy"> & {
    publishMetadata: Metadata;
    subscribeMetadata: Metadata;
  };

export function resolveConfig(config: PubSubConformanceConfig): ResolvedConfig {
  return {
    publishMetadata: {},
    subscribeMetadata: {},
    messageCount: 10,
    maxReadDurationMs: 60_000,
    waitBeforePublishMs: 5_000,
    failureSleepMs: 1_000,
    quietPeriodMs: 1_000,
    unsubscribeSettleMs: 1_000,
    partitionKeyMetadata: (key) => ({ partitionKey: key }),
    metadataRoundTrip: false,
    sharedBroker: true,
    ...stripUndefined(config),
    name: config.name,
    create: config.create,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
