import {
  type BulkMessageHandler,
  type BulkPublishRequest,
  type BulkPublishResponse,
  type BulkSubscribeRequest,
  type ComponentContext,
  ComponentError,
  ConfigError,
  errorMessage,
  type Logger,
  type MessageHandler,
  type Metadata,
  type PublishRequest,
  type PubSubCapability,
  type PubSubDefinition,
  type SubscribeRequest,
  silentLogger,
} from "@outrig/core";
import { BasePubSub, type StopFunction } from "@outrig/core/kit";
import { type Admin, Kafka, type KafkaConfig, Partitioners, type Producer } from "kafkajs";
import { checkBrokerCertificates, kafkaConfig } from "./client.ts";
import { toKafkaMessage } from "./headers.ts";
import { type KafkaOptions, kafkaOptions } from "./options.ts";
import { type Delivery, Subscription } from "./subscription.ts";

const COMPONENT = "pubsub.kafka";
const CAPABILITIES: readonly PubSubCapability[] = ["BULK_PUBSUB", "BULK_SUBSCRIBE", "ORDERING"];

/**
 * Dapr's `pubsub.kafka` over kafkajs: one idempotence-free producer waiting for all in-sync
 * replicas (acks=-1), and one consumer-group member per subscription.
 */
export class KafkaPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly options: KafkaOptions;
  readonly #kafka: Kafka;
  readonly #config: KafkaConfig;
  readonly #producer: Producer;
  readonly #groupId: string | undefined;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Subscription>();
  /** Topics known to exist (created or found), so CreateTopics runs once per topic. */
  readonly #topics = new Map<string, Promise<void>>();
  #admin: Promise<Admin> | undefined;

  private constructor(
    kafka: Kafka,
    config: KafkaConfig,
    producer: Producer,
    opts: KafkaOptions,
    groupId: string | undefined,
    logger: Logger,
  ) {
    super();
    this.#kafka = kafka;
    this.#config = config;
    this.#producer = producer;
    this.options = opts;
    this.#groupId = groupId;
    this.#logger = logger;
  }

  static async create(metadata: Metadata, context: ComponentContext = {}): Promise<KafkaPubSub> {
    const opts = kafkaOptions.parse(metadata);
    const logger = context.logger ?? silentLogger;
    const clientId = opts.clientID ?? context.appId ?? "outrig";
    const config = kafkaConfig(opts, clientId, logger);
    const ssl = typeof config.ssl === "object" ? config.ssl : undefined;
    await checkBrokerCertificates(opts.brokers, ssl, COMPONENT);
    const kafka = new Kafka(config);
    const producer = kafka.producer({
      allowAutoTopicCreation: !opts.disableEntityManagement,
      // Java's murmur2 partitioning, so keys land where other Kafka clients put them.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (error) {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `cannot connect to ${opts.brokers.join(",")}: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
    return new KafkaPubSub(
      kafka,
      config,
      producer,
      opts,
      opts.consumerGroup ?? opts.consumerID ?? context.appId,
      logger,
    );
  }

  protected override async onPing(): Promise<void> {
    try {
      const admin = await this.#adminClient();
      await admin.describeCluster();
    } catch (error) {
      throw new ComponentError("ERR_UNAVAILABLE", `brokers do not answer: ${errorMessage(error)}`, {
        component: COMPONENT,
        cause: error,
      });
    }
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    const message = toKafkaMessage(request.data, request.metadata, request.contentType);
    await this.#ensureTopic(request.topic);
    try {
      await this.#producer.send({ topic: request.topic, acks: -1, messages: [message] });
    } catch (error) {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `publish to ${request.topic} failed: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
  }

  /** One produce request for all entries; Kafka accepts or refuses a partition's batch as a whole. */
  protected override async publishBulk(request: BulkPublishRequest): Promise<BulkPublishResponse> {
    const shared =
      request.metadata && Object.keys(request.metadata).length > 0 ? request.metadata : undefined;
    const messages = request.entries.map((e) =>
      toKafkaMessage(e.event, shared ? { ...shared, ...e.metadata } : e.metadata, e.contentType),
    );
    if (messages.length === 0) return { failedEntries: [] };
    try {
      await this.#ensureTopic(request.topic);
      await this.#producer.send({ topic: request.topic, acks: -1, messages });
      return { failedEntries: [] };
    } catch (error) {
      const message = errorMessage(error);
      return {
        failedEntries: request.entries.map((e) => ({ entryId: e.entryId, error: message })),
      };
    }
  }

  protected async startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction> {
    return this.#subscribe(request, { kind: "single", handler }, undefined);
  }

  protected override async startBulkSubscription(
    request: BulkSubscribeRequest,
    handler: BulkMessageHandler,
  ): Promise<StopFunction> {
    const maxMessages =
      request.maxMessagesCount && request.maxMessagesCount > 0 ? request.maxMessagesCount : 100;
    const maxWait =
      request.maxAwaitDurationMs && request.maxAwaitDurationMs > 0
        ? request.maxAwaitDurationMs
        : 1000;
    return this.#subscribe(
      request,
      { kind: "bulk", handler, maxMessages, metadata: { ...request.metadata } },
      maxWait,
    );
  }

  async #subscribe(
    request: SubscribeRequest,
    delivery: Delivery,
    maxWaitMs: number | undefined,
  ): Promise<StopFunction> {
    if (!this.#groupId) {
      throw new ConfigError(
        [{ field: "consumerGroup", message: "is required to subscribe (or set consumerID)" }],
        { component: COMPONENT },
      );
    }
    await this.#ensureTopic(request.topic);
    const sub = new Subscription(
      // A client of its own per consumer: kafkajs keeps a group's committed offsets in memory per
      // client, and every consumer of that group on the client wipes all of them when it gets an
      // assignment, so the other members' fetch loops crash reading offsets of topics gone missing.
      () => new Kafka(this.#config),
      () => this.#adminClient(),
      { topic: request.topic, groupId: this.#groupId, delivery, maxWaitMs },
      this.options,
      this.#logger,
    );
    this.#subscriptions.add(sub);
    try {
      await sub.start();
    } catch (error) {
      this.#subscriptions.delete(sub);
      await sub.stop();
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `subscribe to ${request.topic} failed: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
    return async () => {
      if (this.#subscriptions.delete(sub)) await sub.stop();
    };
  }

  protected override async onClose(): Promise<void> {
    const admin = this.#admin;
    await Promise.allSettled([this.#producer.disconnect(), admin?.then((a) => a.disconnect())]);
  }

  #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin();
      const connecting = admin.connect().then(() => admin);
      connecting.catch(() => {
        if (this.#admin === connecting) this.#admin = undefined;
      });
      this.#admin = connecting;
    }
    return this.#admin;
  }

  /**
   * Creates a missing topic with the broker's default partitions and replication, unless
   * disableEntityManagement; then a missing topic is the caller's problem, as Dapr leaves it.
   */
  #ensureTopic(topic: string): Promise<void> {
    if (this.options.disableEntityManagement) return Promise.resolve();
    let known = this.#topics.get(topic);
    if (!known) {
      known = this.#adminClient()
        .then((admin) => admin.createTopics({ topics: [{ topic }], waitForLeaders: true }))
        .then(
          () => undefined,
          (error: unknown) => {
            if (/already exists/i.test(errorMessage(error))) return;
            throw error;
          },
        );
      const creating = known;
      creating.catch(() => {
        if (this.#topics.get(topic) === creating) this.#topics.delete(topic);
      });
      this.#topics.set(topic, known);
    }
    return known.catch((error: unknown) => {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `cannot create topic ${topic}: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    });
  }
}

export function createKafkaPubSub(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<KafkaPubSub> {
  return KafkaPubSub.create(metadata, context);
}

export const pubsubDefinition: PubSubDefinition = {
  type: COMPONENT,
  kind: "pubsub",
  version: "v1",
  status: "beta",
  description: "Apache Kafka: consumer groups, ordering per key, bulk publish and bulk subscribe.",
  capabilities: CAPABILITIES,
  options: kafkaOptions,
  create: createKafkaPubSub,
};
