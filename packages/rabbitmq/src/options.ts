import { defineOptions, option, type ParsedOptions } from "@outrig/core";

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
  prefetchCount: option.integer({
    description: "Unacknowledged messages the broker may push per subscription; 0 means no limit.",
    default: 0,
    min: 0,
  }),
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
  caCert: option.string({ description: "PEM CA certificate to verify the broker." }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS." }),
  clientKey: option.string({ description: "PEM private key of clientCert.", sensitive: true }),
});

export type RabbitMQOptions = ParsedOptions<typeof rabbitmqOptions.fields>;
