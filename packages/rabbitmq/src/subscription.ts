import type { Logger, MessageHandler, PubSubMessage } from "@outrig/core";
import { errorMessage } from "@outrig/core";
import type { Channel } from "amqplib";
import { Consumer } from "./consumer.ts";
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
 * A `pubsub.rabbitmq` subscription: the shared consumer on the queue `spec.queueName`, bound to
 * the topic's exchange, acknowledging after the handler (or nacking, requeued when
 * requeueInFailure).
 */
export function subscriptionConsumer(
  spec: SubscriptionSpec,
  handler: MessageHandler,
  opts: RabbitMQOptions,
  logger: Logger,
): Consumer {
  return new Consumer({
    queue: spec.queueName,
    declare: (ch) => declareTopology(ch, spec, opts),
    prefetch: opts.prefetchCount,
    noAck: opts.autoAck,
    sequential: opts.concurrencyMode === "single",
    logger,
    label: { topic: spec.topic },
    handle: async (msg) => {
      const message: PubSubMessage = {
        topic: spec.topic,
        data: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
        metadata: toMetadata(msg.properties),
        ...(msg.properties.contentType ? { contentType: String(msg.properties.contentType) } : {}),
      };
      try {
        await handler(message);
        return "ack";
      } catch (error) {
        logger.debug("rabbitmq handler failed", {
          topic: spec.topic,
          requeue: opts.requeueInFailure,
          error: errorMessage(error),
        });
        return opts.requeueInFailure ? "requeue" : "drop";
      }
    },
  });
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
