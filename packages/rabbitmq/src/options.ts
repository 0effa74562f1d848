import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/**
 * The TLS fields `pubsub.rabbitmq` and `bindings.rabbitmq` share (both check them with
 * tlsSocketOptions); they need an amqps:// address.
 */
const tlsFields = {
  caCert: option.string({ description: "PEM CA certificate to verify the broker (amqps)." }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS (amqps)." }),
  clientKey: option.string({ description: "PEM private key of clientCert.", sensitive: true }),
};

/** Fields both kinds read the same way, through the shared consumer. */
const sharedFields = {
  prefetchCount: option.integer({
    description:
      "Unacknowledged messages the broker may push to one subscription or read (basic.qos); 0 means no limit.",
    default: 0,
    min: 0,
  }),
};

/** Metadata of `pubsub.rabbitmq`; names and defaults follow Dapr's component. */
export const rabbitmqOptions = defineOptions("pubsub.rabbitmq", {
  connectionString: option.string({
    description:
      "AMQP URL such as amqp://user:pass@localhost:5672/vhost (amqps:// for TLS). Takes precedence over protocol/hostname/username/password.",
    aliases: ["host"],
    sensitive: true,
    example: "amqp://guest:guest@localhost:5672",
  }),
  protocol: option.enum(["amqp", "amqps"], {
    description: "Used with hostname when connectionString is not set.",
    default: "amqp",
  }),
  hostname: option.string({
    description: "Broker host (and optional :port) when connectionString is not set.",
    example: "localhost:5672",
  }),
  username: option.string({ description: "User for hostname-style configuration." }),
  password: option.string({
    description: "Password for hostname-style configuration.",
    sensitive: true,
  }),
  consumerID: option.string({
    description:
      "Prefix of the queue name (<consumerID>-<topic>); apps sharing it compete for messages. Defaults to the app id.",
  }),
  durable: option.boolean({
    description: "Declare exchanges and queues durable (they survive a broker restart).",
    default: false,
  }),
  deletedWhenUnused: option.boolean({
    description:
      "Declare queues and exchanges auto-delete: removed once their last consumer or binding goes.",
    default: true,
  }),
  autoAck: option.boolean({
    description:
      "Let the broker consider a message delivered as soon as it is sent; failed handlers then lose the message.",
    default: false,
  }),
  deliveryMode: option.integer({
    description: "AMQP delivery mode: 2 persists messages (with durable queues), 0 or 1 do not.",
    default: 0,
    min: 0,
    max: 2,
  }),
  requeueInFailure: option.boolean({
    description:
      "Requeue a message whose handler failed so it is delivered again; otherwise it is dead-lettered (enableDeadLetter) or dropped.",
    default: false,
  }),
  ...sharedFields,
  concurrencyMode: option.enum(["single", "parallel"], {
    description:
      "single: one message at a time per subscription, in queue order; parallel: as they arrive.",
    default: "parallel",
  }),
  enableDeadLetter: option.boolean({
    description:
      "Route rejected or expired messages to the exchange dlx-<queue>, bound to the queue dlq-<queue>.",
    default: false,
  }),
  maxLen: option.integer({ description: "Queue length limit (x-max-length).", min: 1 }),
  maxLenBytes: option.integer({
    description: "Queue size limit in bytes (x-max-length-bytes).",
    min: 1,
  }),
  exchangeKind: option.enum(["fanout", "topic", "direct", "headers"], {
    description: "Kind of the per-topic exchange; routing keys matter for all but fanout.",
    default: "fanout",
  }),
  publisherConfirm: option.boolean({
    description:
      "Resolve publish only once the broker confirmed the message. Dapr's default is false; outrig's is true.",
    default: true,
  }),
  ttlInSeconds: option.integer({
    description: "Default message TTL; a publish's own ttlInSeconds metadata overrides it.",
    min: 1,
  }),
  defaultQueueTTL: option.duration({
    description: "Message TTL applied by the queue (x-message-ttl) to everything it holds.",
  }),
  singleActiveConsumer: option.boolean({
    description: "Declare queues with x-single-active-consumer: one consumer at a time receives.",
    default: false,
  }),
  reconnectWait: option.duration({
    description: "Longest wait between reconnect attempts after the connection drops.",
    default: 3000,
  }),
  heartBeat: option.duration({ description: "AMQP heartbeat interval.", default: 10_000 }),
  clientName: option.string({ description: "Connection name shown in the management UI." }),
  saslExternal: option.boolean({
    description: "Authenticate with the TLS client certificate (SASL EXTERNAL).",
    default: false,
  }),
  ...tlsFields,
});

/** Dapr's `bindings.rabbitmq` metadata names and defaults. */
export const rabbitmqBindingOptions = defineOptions("bindings.rabbitmq", {
  host: option.string({
    required: true,
    sensitive: true,
    aliases: ["connectionString"],
    description: "AMQP URL of the broker: amqp://user:password@host:5672/vhost (amqps:// for TLS)",
    example: "amqp://guest:guest@localhost:5672",
  }),
  queueName: option.string({
    required: true,
    description:
      "The queue the output publishes to (through the default exchange) and the input consumes; declared by both sides",
    example: "orders",
  }),
  durable: option.boolean({
    default: false,
    description:
      "Declare the queue durable and publish persistent messages, so both survive a broker restart",
  }),
  deleteWhenUnused: option.boolean({
    default: false,
    description:
      "Declare the queue auto-delete: the broker deletes it when its last consumer leaves",
  }),
  exclusive: option.boolean({
    default: false,
    description: "Declare the queue exclusive to the connection that declared it",
  }),
  ttlInSeconds: option.integer({
    min: 1,
    description:
      "Queue-wide message TTL (x-message-ttl); a message can override it with ttlInSeconds request metadata",
  }),
  maxPriority: option.integer({
    min: 1,
    max: 255,
    description:
      "Makes the queue a priority queue (x-max-priority); messages set `priority` request metadata",
  }),
  prefetchCount: sharedFields.prefetchCount,
  contentType: option.string({
    default: "text/plain",
    description: "Content type of published messages unless the request metadata sets contentType",
  }),
  reconnectWait: option.duration({
    default: 5_000,
    description: "Upper bound of the delay between reconnect attempts after the connection drops",
  }),
  direction: option.string({
    description: "Dapr's binding direction (`input`, `output` or `input, output`); informational",
  }),
  externalSasl: option.boolean({
    default: false,
    description: "Authenticate with the TLS client certificate (SASL EXTERNAL); needs clientCert",
  }),
  ...tlsFields,
});

export type RabbitMQOptions = ParsedOptions<typeof rabbitmqOptions.fields>;
export type RabbitMQBindingOptions = ParsedOptions<typeof rabbitmqBindingOptions.fields>;
