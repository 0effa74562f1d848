import type { Logger, MessageHandler, PubSubMessage } from "@outrig/core";
import { errorMessage } from "@outrig/core";
import type { Channel, ConsumeMessage, RecoveringChannelModel } from "amqplib";
import type { RabbitMQOptions } from "./options.ts";
import { toMetadata } from "./properties.ts";

export interface SubscriptionSpec {
  topic: string;
  queueName: string;
  /** Binding keys; `[""]` for fanout. */
  routingKeys: string[];
  maxPriority: number | undefined;
  queueType: string | undefined;
}

/**
 * One consumer on one channel. The channel dies with the connection, so `start` is called again
 * after every reconnect; unacknowledged messages of the dead channel are requeued by the broker.
 */
export class Subscription {
  readonly spec: SubscriptionSpec;
  readonly #handler: MessageHandler;
  readonly #opts: RabbitMQOptions;
  readonly #logger: Logger;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #starting: Promise<void> | undefined;
  #stopped = false;
  /** In single mode deliveries queue up behind this promise, so they run one at a time in order. */
  #chain: Promise<void> = Promise.resolve();
  readonly #inflight = new Set<Promise<void>>();

  constructor(
    spec: SubscriptionSpec,
    handler: MessageHandler,
    opts: RabbitMQOptions,
    logger: Logger,
  ) {
    this.spec = spec;
    this.#handler = handler;
    this.#opts = opts;
    this.#logger = logger;
  }

  get running(): boolean {
    return this.#channel !== undefined;
  }

  start(connection: RecoveringChannelModel): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#starting ??= this.#start(connection).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(connection: RecoveringChannelModel): Promise<void> {
    const ch = await connection.createChannel();
    ch.on("error", (error: Error) => {
      this.#logger.warn("rabbitmq subscription channel error", {
        topic: this.spec.topic,
        error: errorMessage(error),
      });
    });
    ch.on("close", () => {
      if (this.#channel === ch) this.#channel = undefined;
    });
    try {
      await declareTopology(ch, this.spec, this.#opts);
      if (this.#opts.prefetchCount > 0) await ch.prefetch(this.#opts.prefetchCount);
      const { consumerTag } = await ch.consume(
        this.spec.queueName,
        (msg) => {
          if (msg) this.#onMessage(ch, msg);
        },
        { noAck: this.#opts.autoAck },
      );
      if (this.#stopped) {
        await ch.close().catch(() => {});
        return;
      }
      this.#channel = ch;
      this.#consumerTag = consumerTag;
    } catch (error) {
      await ch.close().catch(() => {});
      throw error;
    }
  }

  #onMessage(ch: Channel, msg: ConsumeMessage): void {
    const run = (): Promise<void> => this.#deliver(ch, msg);
    let done: Promise<void>;
    if (this.#opts.concurrencyMode === "single") {
      this.#chain = this.#chain.then(run);
      done = this.#chain;
    } else {
      done = run();
    }
    this.#inflight.add(done);
    void done.finally(() => this.#inflight.delete(done));
  }

  async #deliver(ch: Channel, msg: ConsumeMessage): Promise<void> {
    const message: PubSubMessage = {
      topic: this.spec.topic,
      data: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
      metadata: toMetadata(msg.properties),
      ...(msg.properties.contentType ? { contentType: String(msg.properties.contentType) } : {}),
    };
    let ok = true;
    try {
      await this.#handler(message);
    } catch (error) {
      ok = false;
      this.#logger.debug("rabbitmq handler failed", {
        topic: this.spec.topic,
        requeue: this.#opts.requeueInFailure,
        error: errorMessage(error),
      });
    }
    if (this.#opts.autoAck) return;
    // A channel closed by a broker restart cannot ack any more; the broker requeues the message
    // itself, so a failed ack here is not a loss.
    try {
      if (ok) ch.ack(msg);
      else ch.nack(msg, false, this.#opts.requeueInFailure);
    } catch {}
  }

  /** Cancels the consumer, lets in-flight handlers settle (and ack), then closes the channel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#starting?.catch(() => {});
    const ch = this.#channel;
    this.#channel = undefined;
    if (!ch) return;
    if (this.#consumerTag) await ch.cancel(this.#consumerTag).catch(() => {});
    await Promise.allSettled([...this.#inflight]);
    await ch.close().catch(() => {});
  }
}

async function declareTopology(
  ch: Channel,
  spec: SubscriptionSpec,
  opts: RabbitMQOptions,
): Promise<void> {
  await ch.assertExchange(spec.topic, opts.exchangeKind, {
    durable: opts.durable,
    autoDelete: opts.deletedWhenUnused,
  });
  const args: Record<string, unknown> = {};
  if (opts.enableDeadLetter) {
    // Dapr's layout: a durable fanout exchange dlx-<queue> feeding the queue dlq-<queue>.
    const dlx = `dlx-${spec.queueName}`;
    const dlq = `dlq-${spec.queueName}`;
    await ch.assertExchange(dlx, "fanout", { durable: true, autoDelete: false });
    await ch.assertQueue(dlq, { durable: true, autoDelete: opts.deletedWhenUnused });
    await ch.bindQueue(dlq, dlx, "");
    args["x-dead-letter-exchange"] = dlx;
  }
  if (opts.maxLen !== undefined) args["x-max-length"] = opts.maxLen;
  if (opts.maxLenBytes !== undefined) args["x-max-length-bytes"] = opts.maxLenBytes;
  if (opts.defaultQueueTTL !== undefined) args["x-message-ttl"] = Math.round(opts.defaultQueueTTL);
  if (opts.singleActiveConsumer) args["x-single-active-consumer"] = true;
  if (spec.maxPriority !== undefined) args["x-max-priority"] = spec.maxPriority;
  if (spec.queueType !== undefined) args["x-queue-type"] = spec.queueType;
  await ch.assertQueue(spec.queueName, {
    durable: opts.durable,
    autoDelete: opts.deletedWhenUnused,
    arguments: args,
  });
  for (const key of spec.routingKeys) await ch.bindQueue(spec.queueName, spec.topic, key);
}
