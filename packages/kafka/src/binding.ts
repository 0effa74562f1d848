import { randomUUID } from "node:crypto";
import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  ComponentError,
  ConfigError,
  errorMessage,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Logger,
  type Metadata,
  silentLogger,
} from "@outrig/core";
import { BaseBinding, backoffDelay, type StopFunction, sleep } from "@outrig/core/kit";
import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  type KafkaMessage,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import { checkBrokerCertificates, securityConfig } from "./client.ts";
import { type KafkaBindingOptions, kafkaBindingOptions } from "./options.ts";
import { pinNewestStarts } from "./start-offsets.ts";

const COMPONENT = "bindings.kafka";
/** How long `read` waits for the consumer to join its group before it gives up. */
const JOIN_TIMEOUT_MS = 60_000;

function headersToMetadata(headers: IHeaders | undefined): Metadata {
  const metadata: Metadata = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const value = Array.isArray(v) ? v[v.length - 1] : v;
    metadata[k] = Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
  }
  return metadata;
}

/**
 * `bindings.kafka`: the output's `create` publishes to `publishTopic` (key from the `key` or
 * `partitionKey` request metadata; other request metadata become headers, acks from all
 * in-sync replicas). Each read is one consumer in `consumerGroup` on `topics`; a handler that
 * throws is retried in process with backoff (doubling from consumeRetryInterval up to 10x it) for as
 * long as the read lives, and the offset is committed only after it succeeded, so a failed
 * message is never skipped (its partition waits behind it), and one left failing when the reader
 * stops is read again by the group's next consumer.
 */
export class KafkaBinding extends BaseBinding {
  readonly componentType = COMPONENT;
  readonly opts: KafkaBindingOptions;
  readonly #config: KafkaConfig;
  readonly #kafka: Kafka;
  readonly #group: string | undefined;
  readonly #logger: Logger;
  readonly #consumers = new Set<Consumer>();
  #producer: Promise<Producer> | undefined;

  constructor(
    opts: KafkaBindingOptions,
    config: KafkaConfig,
    group: string | undefined,
    logger: Logger,
  ) {
    super();
    this.opts = opts;
    this.#config = config;
    this.#kafka = new Kafka(config);
    this.#group = group;
    this.#logger = logger;
  }

  operations(): readonly string[] {
    return ["create"];
  }

  protected override async onPing(): Promise<void> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (error) {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `the brokers do not answer: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** `create`, the only operation, publishes. */
  protected async invokeOperation(
    _operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const metadata = request.metadata ?? {};
    const topic = getMetadata(metadata, "topic") || this.opts.publishTopic;
    if (!topic) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        "create needs publishTopic (or the topic metadata)",
        {
          component: COMPONENT,
        },
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
      const producer = await this.#connectProducer();
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
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `publish to ${topic} failed: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
    return {};
  }

  protected async startReading(handler: BindingHandler): Promise<StopFunction> {
    const topics = this.opts.topics ?? [];
    if (topics.length === 0 || !this.#group) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        "read needs the topics metadata and a consumerGroup (or consumerID, or an app ID)",
        { component: COMPONENT },
      );
    }
    // A client of its own per consumer, as the pub/sub's subscriptions have (see KafkaPubSub):
    // consumers of one group on one kafkajs client wipe each other's committed offsets.
    const consumer = new Kafka(this.#config).consumer({
      groupId: this.#group,
      allowAutoTopicCreation: true,
    });
    this.#consumers.add(consumer);
    let stopped = false;
    const stop = async (): Promise<void> => {
      stopped = true;
      this.#consumers.delete(consumer);
      await consumer.disconnect().catch(() => {});
    };
    // With newest, every assigned partition's start is committed before read resolves (see
    // pinNewestStarts), so an event created afterwards is read, across rebalances too.
    let admin: Promise<Admin> | undefined;
    const pin =
      this.opts.initialOffset === "newest"
        ? pinNewestStarts(consumer, {
            admin: () => {
              if (!admin) {
                const client = this.#kafka.admin();
                admin = client.connect().then(() => client);
                admin.catch(() => {
                  admin = undefined;
                });
              }
              return admin;
            },
            groupId: this.#group,
            logger: this.#logger,
            starts: new Map(),
          })
        : undefined;
    consumer.on(consumer.events.DISCONNECT, () => {
      pin?.stop();
      void admin?.then((a) => a.disconnect()).catch(() => {});
    });
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`did not join consumer group ${this.#group} within ${JOIN_TIMEOUT_MS} ms`),
          ),
        JOIN_TIMEOUT_MS,
      );
      const stopJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
        stopJoin();
        void (pin?.ready ?? Promise.resolve()).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    });
    joined.catch(() => {});
    try {
      await this.#ensureTopics(topics);
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: this.opts.initialOffset === "oldest" });
      await consumer.run({
        autoCommit: true,
        eachMessage: async ({ topic, partition, message }) => {
          await this.#deliver(handler, topic, partition, message, () => stopped || this.closed);
        },
      });
      await joined;
    } catch (error) {
      await stop();
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `cannot read ${topics.join(",")}: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
    return stop;
  }

  /** Calls the handler until it succeeds; throwing out of eachMessage keeps the offset. */
  async #deliver(
    handler: BindingHandler,
    topic: string,
    partition: number,
    message: KafkaMessage,
    stopped: () => boolean,
  ): Promise<void> {
    const value = message.value ?? Buffer.alloc(0);
    const metadata: Metadata = {
      ...headersToMetadata(message.headers),
      topic,
      partition: String(partition),
      offset: message.offset,
      ...(message.key ? { key: message.key.toString("utf8") } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      // A stopped reader hands out nothing more; the uncommitted offset is read again later.
      if (stopped()) throw new Error("the reader stopped");
      try {
        await handler({
          data: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
          metadata: { ...metadata },
        });
        return;
      } catch (error) {
        this.#logger.debug("kafka binding handler failed; retrying", {
          topic,
          partition,
          offset: message.offset,
          attempt,
          error: errorMessage(error),
        });
      }
      await sleep(backoffDelay({ initialMs: this.opts.consumeRetryInterval }, attempt + 1));
    }
  }

  /** Creates missing topics (broker defaults), so a consumer can subscribe before anyone published. */
  async #ensureTopics(topics: string[]): Promise<void> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.createTopics({
        topics: topics.map((topic) => ({ topic })),
        waitForLeaders: true,
      });
    } catch (error) {
      // Another client creating the same topic at once is fine; anything else surfaces at subscribe.
      this.#logger.debug("kafka binding: creating topics failed", { error: errorMessage(error) });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  protected override async onClose(): Promise<void> {
    const consumers = [...this.#consumers];
    this.#consumers.clear();
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => {})));
    const producer = await this.#producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => {});
  }

  #connectProducer(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const connecting = producer.connect().then(() => producer);
      this.#producer = connecting;
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
    }
    return this.#producer;
  }
}

/** Creates a `bindings.kafka` binding from Dapr metadata (`brokers`, `topics`, `publishTopic`, ...). */
export async function createKafkaBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<KafkaBinding> {
  const opts = kafkaBindingOptions.parse(metadata);
  if (!opts.topics?.length && !opts.publishTopic) {
    throw new ConfigError(
      [{ field: "topics", message: "set topics (input), publishTopic (output) or both" }],
      { component: COMPONENT },
    );
  }
  const { ssl, sasl } = securityConfig(opts, COMPONENT);
  await checkBrokerCertificates(opts.brokers, ssl, COMPONENT);
  const config: KafkaConfig = {
    clientId: opts.clientID || context.appId || `outrig-${randomUUID().slice(0, 8)}`,
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
  };
  const group = opts.consumerGroup || opts.consumerID || context.appId;
  const binding = new KafkaBinding(opts, config, group, context.logger ?? silentLogger);
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
