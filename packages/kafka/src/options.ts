import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/**
 * The fields `pubsub.kafka` and `bindings.kafka` share: Dapr's Kafka components take the same
 * brokers, group, offset, consumer, authentication and TLS metadata, and both consume through one
 * GroupConsumer (consumer.ts).
 */
const sharedFields = {
  brokers: option.list({
    description: "Comma-separated bootstrap brokers, host:port.",
    required: true,
    example: "localhost:9092",
  }),
  consumerGroup: option.string({
    description:
      "Consumer group of subscriptions and reads; falls back to consumerID, then the app id.",
  }),
  consumerID: option.string({ description: "Consumer group when consumerGroup is not set." }),
  clientID: option.string({
    description: "Client ID sent to the brokers (logs, quotas). Defaults to the app id.",
  }),
  initialOffset: option.enum(["newest", "oldest"], {
    description: "Where a consumer group without a committed offset starts reading.",
    default: "newest",
  }),
  authType: option.enum(["none", "password", "mtls"], {
    description:
      "none; password (SASL with saslUsername/saslPassword over TLS unless disableTls); mtls (client certificate).",
  }),
  authRequired: option.boolean({
    description: "Deprecated Dapr switch: true means authType=password.",
    default: false,
  }),
  saslUsername: option.string({ description: "SASL user (authType=password)." }),
  saslPassword: option.string({
    description: "SASL password (authType=password).",
    sensitive: true,
  }),
  saslMechanism: option.enum(["PLAINTEXT", "PLAIN", "SHA-256", "SHA-512"], {
    description: "SASL mechanism: PLAIN (Dapr also spells it PLAINTEXT), SCRAM SHA-256 or SHA-512.",
    default: "PLAINTEXT",
  }),
  disableTls: option.boolean({
    description: "Connect without TLS even with authentication configured.",
    default: false,
  }),
  skipVerify: option.boolean({
    description: "Accept any broker certificate (testing only).",
    default: false,
  }),
  caCert: option.string({ description: "PEM CA certificate to verify the brokers." }),
  clientCert: option.string({ description: "PEM client certificate (authType=mtls)." }),
  clientKey: option.string({ description: "PEM private key of clientCert.", sensitive: true }),
  maxMessageBytes: option.integer({
    description: "Largest message the consumer fetches per partition.",
    default: 1_048_576,
    min: 1,
  }),
  heartbeatInterval: option.duration({ description: "Consumer group heartbeat.", default: 3000 }),
  sessionTimeout: option.duration({
    description: "A consumer silent this long leaves the group.",
    default: 10_000,
  }),
  consumeRetryInterval: option.duration({
    description:
      "Pause before the first in-process retry of a failed handler; doubles up to 10 times that.",
    default: 100,
  }),
};

/** Metadata of `pubsub.kafka`; names and defaults follow Dapr's component. */
export const kafkaOptions = defineOptions("pubsub.kafka", {
  ...sharedFields,
  consumeRetryEnabled: option.boolean({
    description:
      "Retry a failed handler in-process until it succeeds, before the offset moves on. false logs the failure and skips the message.",
    default: true,
  }),
  disableEntityManagement: option.boolean({
    description:
      "Do not create missing topics (admin CreateTopics, broker auto-creation); publishing to or subscribing to a topic that does not exist then fails.",
    default: false,
  }),
  partitionsConsumedConcurrently: option.integer({
    description: "Partitions a subscription handles at the same time; order holds within each.",
    default: 1,
    min: 1,
  }),
});

/** Dapr's `bindings.kafka` metadata names and defaults. */
export const kafkaBindingOptions = defineOptions("bindings.kafka", {
  ...sharedFields,
  topics: option.list({
    description: "Comma-separated topics the input reads (needed for read)",
    example: "orders,refunds",
  }),
  publishTopic: option.string({
    description:
      "Topic the output's create publishes to (needed for create); request metadata `topic` overrides it",
    example: "orders",
  }),
  direction: option.string({
    description: "Dapr's binding direction (`input`, `output` or `input, output`); informational",
  }),
});

export type KafkaOptions = ParsedOptions<typeof kafkaOptions.fields>;
export type KafkaBindingOptions = ParsedOptions<typeof kafkaBindingOptions.fields>;
