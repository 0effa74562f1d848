import { randomUUID } from "node:crypto";
import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  errorMessage,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Logger,
  type Metadata,
  silentLogger,
} from "@outrig/core";
import { BaseBinding, componentErrors, type StopFunction } from "@outrig/core/kit";
import type { IHeaders, KafkaMessage } from "kafkajs";
import { connectKafka, type KafkaConnection } from "./client.ts";
import { type ConsumerSettings, GroupConsumer } from "./consumer.ts";
import { type KafkaBindingOptions, kafkaBindingOptions } from "./options.ts";

const COMPONENT = "bindings.kafka";
const errors = componentErrors(COMPONENT);

/**
 * A read's consumer settings: the binding has no consumeRetryEnabled (a failed handler is retried
 * for as long as the read lives), reads one partition at a time and always creates missing topics.
 */
function readSettings(opts: KafkaBindingOptions): ConsumerSettings {
  return {
    ...opts,
    consumeRetryEnabled: true,
    partitionsConsumedConcurrently: 1,
    disableEntityManagement: false,
  };
}

/** A read event's metadata: the headers (last value of each), topic, partition, offset and key. */
function readMetadata(message: KafkaMessage, topic: string, partition: number): Metadata {
  const metadata: Metadata = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    metadata[k] = Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
  }
  return {
    ...metadata,
    topic,
    partition: String(partition),
    offset: message.offset,
    ...(message.key ? { key: message.key.toString("utf8") } : {}),
  };
}

/**
 * `bindings.kafka`: the output's `create` publishes to `publishTopic` (key from the `key` or
 * `partitionKey` request metadata; other request metadata become headers, acks from all
 * in-sync replicas). Each read is one consumer in `consumerGroup` on `topics`, the pub/sub's
 * GroupConsumer: a handler that throws is retried in process with backoff (doubling from
 * consumeRetryInterval up to 10x it) for as long as the read lives, and the offset is committed
 * only after it succeeded, so a failed message is never skipped (its partition waits behind it),
 * and one left failing when the reader stops is read again by the group's next consumer.
 */
export class KafkaBinding extends BaseBinding {
  readonly componentType = COMPONENT;
  readonly opts: KafkaBindingOptions;
  readonly #connection: KafkaConnection;
  readonly #group: string | undefined;
  readonly #logger: Logger;

  constructor(
    opts: KafkaBindingOptions,
    connection: KafkaConnection,
    group: string | undefined,
    logger: Logger,
  ) {
    super();
    this.opts = opts;
    this.#connection = connection;
    this.#group = group;
    this.#logger = logger;
  }

  operations(): readonly string[] {
    return ["create"];
  }

  protected override onPing(): Promise<void> {
    return this.#connection.ping();
  }

  /** `create`, the only operation, publishes. */
  protected async invokeOperation(
    _operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const metadata = request.metadata ?? {};
    const topic = getMetadata(metadata, "topic") || this.opts.publishTopic;
    if (!topic) {
      throw errors.error(
        "ERR_INVALID_REQUEST",
        "create needs publishTopic (or the topic metadata)",
      );
    }
    const key =
      getMetadata(metadata, "key") ||
      getMetadata(metadata, "partitionKey") ||
      getMetadata(metadata, "__key");
    const headers: IHeaders = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (!["topic", "key", "partitionkey", "__key"].includes(k.toLowerCase())) headers[k] = v;
    }
    try {
      const producer = await this.#connection.producer();
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            value: Buffer.from(request.data ?? new Uint8Array()),
            headers,
            ...(key ? { key } : {}),
          },
        ],
      });
    } catch (error) {
      throw errors.error("ERR_UNAVAILABLE", `publish to ${topic} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return {};
  }

  protected async startReading(handler: BindingHandler): Promise<StopFunction> {
    const topics = this.opts.topics ?? [];
    if (topics.length === 0 || !this.#group) {
      throw errors.error(
        "ERR_INVALID_REQUEST",
        "read needs the topics metadata and a consumerGroup (or consumerID, or an app ID)",
      );
    }
    const consumer = new GroupConsumer(
      this.#connection,
      {
        topics,
        groupId: this.#group,
        delivery: {
          kind: "single",
          handler: async (message, topic, partition) => {
            const value = message.value ?? Buffer.alloc(0);
            await handler({
              data: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
              metadata: readMetadata(message, topic, partition),
            });
          },
        },
        maxWaitMs: undefined,
      },
      readSettings(this.opts),
      this.#logger,
    );
    return consumer.start(`cannot read ${topics.join(",")}`);
  }

  protected override onClose(): Promise<void> {
    return this.#connection.close();
  }
}

/** Creates a `bindings.kafka` binding from Dapr metadata (`brokers`, `topics`, `publishTopic`, ...). */
export async function createKafkaBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<KafkaBinding> {
  const opts = kafkaBindingOptions.parse(metadata);
  if (!opts.topics?.length && !opts.publishTopic) {
    throw errors.config([
      { field: "topics", message: "set topics (input), publishTopic (output) or both" },
    ]);
  }
  const logger = context.logger ?? silentLogger;
  const clientId = opts.clientID || context.appId || `outrig-${randomUUID().slice(0, 8)}`;
  const connection = await connectKafka(opts, clientId, logger, COMPONENT, true);
  const group = opts.consumerGroup || opts.consumerID || context.appId;
  const binding = new KafkaBinding(opts, connection, group, logger);
  await binding.ping();
  return binding;
}

export const kafkaBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "Kafka topics as input (offset committed after the handler) and output (create)",
  capabilities: ["create", "read"],
  directions: ["input", "output"],
  options: kafkaBindingOptions,
  create: createKafkaBinding,
};
