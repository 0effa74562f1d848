import {
  type BulkMessageHandler,
  type BulkPublishRequest,
  type BulkPublishResponse,
  type BulkSubscribeRequest,
  type ComponentContext,
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
import { BasePubSub, componentErrors, type StopFunction } from "@outrig/core/kit";
import { connectKafka, type KafkaConnection } from "./client.ts";
import { type Delivery, GroupConsumer } from "./consumer.ts";
import { fromKafkaMessage, toKafkaMessage } from "./headers.ts";
import { type KafkaOptions, kafkaOptions } from "./options.ts";

const COMPONENT = "pubsub.kafka";
const errors = componentErrors(COMPONENT);
const CAPABILITIES: readonly PubSubCapability[] = ["BULK_PUBSUB", "BULK_SUBSCRIBE", "ORDERING"];

/**
 * Dapr's `pubsub.kafka` over kafkajs: one idempotence-free producer waiting for all in-sync
 * replicas (acks=-1), and one consumer-group member per subscription (see GroupConsumer).
 */
export class KafkaPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly options: KafkaOptions;
  readonly #connection: KafkaConnection;
  readonly #groupId: string | undefined;
  readonly #logger: Logger;

  private constructor(
    connection: KafkaConnection,
    opts: KafkaOptions,
    groupId: string | undefined,
    logger: Logger,
  ) {
    super();
    this.#connection = connection;
    this.options = opts;
    this.#groupId = groupId;
    this.#logger = logger;
  }

  static async create(metadata: Metadata, context: ComponentContext = {}): Promise<KafkaPubSub> {
    const opts = kafkaOptions.parse(metadata);
    const logger = context.logger ?? silentLogger;
    const clientId = opts.clientID ?? context.appId ?? "outrig";
    const connection = await connectKafka(
      opts,
      clientId,
      logger,
      COMPONENT,
      !opts.disableEntityManagement,
    );
    try {
      await connection.producer();
    } catch (error) {
      throw errors.error(
        "ERR_UNAVAILABLE",
        `cannot connect to ${opts.brokers.join(",")}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    return new KafkaPubSub(
      connection,
      opts,
      opts.consumerGroup ?? opts.consumerID ?? context.appId,
      logger,
    );
  }

  protected override onPing(): Promise<void> {
    return this.#connection.ping();
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    const message = toKafkaMessage(request.data, request.metadata, request.contentType);
    await this.#connection.ensureTopic(request.topic);
    try {
      const producer = await this.#connection.producer();
      await producer.send({ topic: request.topic, acks: -1, messages: [message] });
    } catch (error) {
      throw errors.error(
        "ERR_UNAVAILABLE",
        `publish to ${request.topic} failed: ${errorMessage(error)}`,
        { cause: error },
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
      await this.#connection.ensureTopic(request.topic);
      const producer = await this.#connection.producer();
      await producer.send({ topic: request.topic, acks: -1, messages });
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
    return this.#subscribe(
      request,
      {
        kind: "single",
        handler: (message, topic, partition) =>
          handler({ topic, ...fromKafkaMessage(message, partition) }),
      },
      undefined,
    );
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
      throw errors.config([
        { field: "consumerGroup", message: "is required to subscribe (or set consumerID)" },
      ]);
    }
    const consumer = new GroupConsumer(
      this.#connection,
      { topics: [request.topic], groupId: this.#groupId, delivery, maxWaitMs },
      this.options,
      this.#logger,
    );
    return consumer.start(`subscribe to ${request.topic} failed`);
  }

  protected override onClose(): Promise<void> {
    return this.#connection.close();
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
