import {
  type ComponentContext,
  errorMessage,
  getMetadata,
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
import amqp, { type Channel, type ConfirmChannel, type RecoveringChannelModel } from "amqplib";
import { connectError, connectTarget } from "./connection.ts";
import type { Consumer } from "./consumer.ts";
import { type RabbitMQOptions, rabbitmqOptions } from "./options.ts";
import { publishSettings } from "./properties.ts";
import { recoveringConnection } from "./recovery.ts";
import { subscriptionConsumer } from "./subscription.ts";

const COMPONENT = "pubsub.rabbitmq";
const errors = componentErrors(COMPONENT);
/** How long a publish waits for a (re)connection before it gives up as unavailable. */
const PUBLISH_CONNECT_TIMEOUT_MS = 15_000;
/** A channel closed under an unconfirmed publish is retried on a fresh channel this often. */
const PUBLISH_ATTEMPTS = 3;

/**
 * Dapr's `pubsub.rabbitmq`: a fanout exchange per topic and a queue `<consumerID>-<topic>` per
 * subscribing app, publisher confirms, and recovery of the connection and every subscription after
 * the broker goes away.
 */
export class RabbitMQPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set<PubSubCapability>(["MESSAGE_TTL"]);
  readonly options: RabbitMQOptions;
  readonly #connection: RecoveringChannelModel;
  readonly #consumerID: string | undefined;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Consumer>();
  #publishChannel: Promise<Channel> | undefined;
  #openChannel: Channel | undefined;
  /** Exchanges declared on the current connection; a reconnect forgets them. */
  #declared = new Map<string, Promise<void>>();
  #exchanges = new Set<string>();
  #connected = true;

  private constructor(
    connection: RecoveringChannelModel,
    opts: RabbitMQOptions,
    consumerID: string | undefined,
    logger: Logger,
  ) {
    super();
    this.#connection = connection;
    this.options = opts;
    this.#consumerID = consumerID;
    this.#logger = logger;
    connection.on("error", (error: Error) =>
      logger.warn("rabbitmq connection error", { error: errorMessage(error) }),
    );
    connection.on("disconnect", (error: Error) => {
      this.#connected = false;
      this.#forgetChannel();
      logger.warn("rabbitmq disconnected; reconnecting", { error: errorMessage(error) });
    });
    connection.on("connect", () => {
      this.#connected = true;
      for (const sub of this.#subscriptions) this.#resume(sub);
    });
  }

  static async create(metadata: Metadata, context: ComponentContext = {}): Promise<RabbitMQPubSub> {
    const opts = rabbitmqOptions.parse(metadata);
    const { url, socketOptions } = connectTarget(opts, amqp.credentials.external());
    const connection = await amqp.connect(url as string, {
      ...socketOptions,
      ...recoveringConnection(opts.reconnectWait),
    });
    const pubsub = new RabbitMQPubSub(
      connection,
      opts,
      opts.consumerID ?? context.appId,
      context.logger ?? silentLogger,
    );
    try {
      await connection.waitForConnect();
    } catch (error) {
      await connection.close().catch(() => {});
      throw connectError(error, opts, COMPONENT);
    }
    return pubsub;
  }

  protected override async onPing(): Promise<void> {
    if (!this.#connected) {
      throw errors.error("ERR_UNAVAILABLE", "not connected to the broker");
    }
    const ch = await this.#channel();
    await ch.checkExchange("amq.fanout");
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    const { routingKey, options } = publishSettings(request.metadata, request.contentType, {
      deliveryMode: this.options.deliveryMode,
      ttlInSeconds: this.options.ttlInSeconds,
    });
    const content = Buffer.from(
      request.data.buffer,
      request.data.byteOffset,
      request.data.byteLength,
    );
    let lastError: unknown;
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      // Steady state skips both awaits: the channel is open and the exchange known.
      const ch = this.#openChannel ?? (await this.#channel());
      if (!this.#exchanges.has(request.topic)) await this.#declareExchange(ch, request.topic);
      try {
        await sendOn(
          ch,
          request.topic,
          routingKey,
          content,
          options,
          this.options.publisherConfirm,
        );
        return;
      } catch (error) {
        lastError = error;
        if (this.closed || !isChannelLoss(error)) break;
      }
    }
    throw errors.error(
      "ERR_UNAVAILABLE",
      `publish to ${request.topic} failed: ${errorMessage(lastError)}`,
      { cause: lastError },
    );
  }

  protected async startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction> {
    const md = request.metadata;
    const queueName = getMetadata(md, "queueName") || queueFor(this.#consumerID, request.topic);
    const routingKeys = (getMetadata(md, "routingKey") ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== "");
    const maxPriority = getMetadata(md, "maxPriority");
    const queueType = getMetadata(md, "queueType");
    if (maxPriority !== undefined && !/^\d+$/.test(maxPriority)) {
      throw errors.config([{ field: "maxPriority", message: "must be an integer 0-255" }]);
    }
    const sub = subscriptionConsumer(
      {
        topic: request.topic,
        queueName,
        routingKeys: routingKeys.length > 0 ? routingKeys : [""],
        maxPriority: maxPriority === undefined ? undefined : Number(maxPriority),
        queueType: queueType || undefined,
      },
      handler,
      this.options,
      this.#logger,
    );
    try {
      await sub.start(this.#connection);
    } catch (error) {
      throw errors.error(
        "ERR_UNAVAILABLE",
        `subscribe to ${request.topic} (queue ${queueName}) failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    this.#subscriptions.add(sub);
    return () => {
      this.#subscriptions.delete(sub);
      return sub.stop();
    };
  }

  protected override async onClose(): Promise<void> {
    await this.#connection.close().catch(() => {});
  }

  #resume(sub: Consumer): void {
    if (sub.running) return;
    sub.start(this.#connection).catch((error: unknown) => {
      // The next `connect` event tries again.
      this.#logger.warn("rabbitmq resubscribe failed", {
        queue: sub.spec.queue,
        error: errorMessage(error),
      });
    });
  }

  #channel(): Promise<Channel> {
    if (!this.#publishChannel) {
      const opening = withTimeout(
        this.options.publisherConfirm
          ? this.#connection.createConfirmChannel()
          : this.#connection.createChannel(),
        PUBLISH_CONNECT_TIMEOUT_MS,
      ).then((ch) => {
        ch.on("error", (error: Error) =>
          this.#logger.warn("rabbitmq publish channel error", { error: errorMessage(error) }),
        );
        ch.on("close", () => {
          if (this.#publishChannel === opening) this.#forgetChannel();
        });
        if (this.#publishChannel === opening) this.#openChannel = ch;
        return ch;
      });
      opening.catch(() => {
        if (this.#publishChannel === opening) this.#publishChannel = undefined;
      });
      this.#publishChannel = opening;
    }
    return this.#publishChannel.catch((error: unknown) => {
      throw errors.error("ERR_UNAVAILABLE", `no channel to the broker: ${errorMessage(error)}`, {
        cause: error,
      });
    });
  }

  #forgetChannel(): void {
    this.#publishChannel = undefined;
    this.#openChannel = undefined;
    this.#declared = new Map();
    this.#exchanges = new Set();
  }

  #declareExchange(ch: Channel, topic: string): Promise<void> {
    let declared = this.#declared.get(topic);
    if (!declared) {
      declared = ch
        .assertExchange(topic, this.options.exchangeKind, {
          durable: this.options.durable,
          autoDelete: this.options.deletedWhenUnused,
        })
        .then(() => {
          if (this.#declared.get(topic) === declaring) this.#exchanges.add(topic);
        });
      const declaring = declared;
      declaring.catch(() => {
        if (this.#declared.get(topic) === declaring) this.#declared.delete(topic);
      });
      this.#declared.set(topic, declared);
    }
    return declared.catch((error: unknown) => {
      throw errors.error(
        "ERR_INTERNAL",
        `cannot declare exchange ${topic}: ${errorMessage(error)}`,
        { cause: error },
      );
    });
  }
}

/** Dapr's queue naming; an app without a consumer ID must name its queue. */
function queueFor(consumerID: string | undefined, topic: string): string {
  if (!consumerID) {
    throw errors.config([
      { field: "consumerID", message: "is required to subscribe (or pass queueName metadata)" },
    ]);
  }
  return `${consumerID}-${topic}`;
}

function sendOn(
  ch: Channel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqp.Options.Publish,
  confirm: boolean,
): Promise<void> {
  if (!confirm) {
    const ok = ch.publish(exchange, routingKey, content, options);
    return ok ? Promise.resolve() : new Promise((resolve) => ch.once("drain", () => resolve()));
  }
  return new Promise((resolve, reject) => {
    (ch as ConfirmChannel).publish(exchange, routingKey, content, options, (error: unknown) => {
      if (error) reject(error instanceof Error ? error : new Error(String(error)));
      else resolve();
    });
  });
}

function isChannelLoss(error: unknown): boolean {
  const message = errorMessage(error).toLowerCase();
  return message.includes("closed") || message.includes("connection");
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createRabbitMQPubSub(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<RabbitMQPubSub> {
  return RabbitMQPubSub.create(metadata, context);
}

export const pubsubDefinition: PubSubDefinition = {
  type: COMPONENT,
  kind: "pubsub",
  version: "v1",
  status: "beta",
  description: "RabbitMQ over AMQP 0-9-1: an exchange per topic, a queue per consumer ID.",
  capabilities: ["MESSAGE_TTL"],
  options: rabbitmqOptions,
  create: createRabbitMQPubSub,
};
