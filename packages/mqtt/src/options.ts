import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/**
 * The fields `pubsub.mqtt3` and `bindings.mqtt3` share: Dapr gives both the same connection,
 * QoS, session and retry metadata, and both run them through one producer and one consumer.
 */
const sharedFields = {
  url: option.string({
    required: true,
    sensitive: true,
    description:
      "Broker address: tcp://[user[:password]@]host[:port] (mqtt:// too); ssl://, mqtts:// or tls:// for TLS, ws:// and wss:// for WebSockets",
    example: "tcp://localhost:1883",
  }),
  qos: option.integer({
    default: 1,
    min: 0,
    max: 2,
    description: "Quality of service for publishes and subscriptions: 0, 1 or 2",
  }),
  retain: option.boolean({
    default: false,
    description:
      "Publish as retained: the broker keeps the last message per topic for later subscribers (request metadata `retain` overrides it)",
  }),
  cleanSession: option.boolean({
    default: false,
    description:
      "Start every subscribing connection with a fresh session; false keeps its subscription and queued QoS 1/2 messages at the broker while it is away",
  }),
  backOffMaxRetries: option.integer({
    default: 0,
    min: -1,
    description:
      "In-process retries of a failed handler before the message is published again to its topic and acknowledged; -1 retries until it succeeds (and keeps order)",
  }),
  backOffInitialInterval: option.duration({
    default: 100,
    description: "Pause before the first in-process retry; doubles on each further one",
  }),
  backOffMaxInterval: option.duration({
    default: 5_000,
    description: "Longest pause between in-process retries",
  }),
  caCert: option.string({ description: "PEM CA certificate to verify the broker" }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS" }),
  clientKey: option.string({ sensitive: true, description: "PEM private key of clientCert" }),
};

/** Metadata of `pubsub.mqtt3`; names and defaults follow Dapr's component. */
export const mqttOptions = defineOptions("pubsub.mqtt3", {
  ...sharedFields,
  consumerID: option.string({
    description:
      "Client ID prefix of the subscriber connections (a persistent session each when cleanSession=false). Defaults to the app id.",
  }),
  producerID: option.string({
    description: "Client ID of the publisher connection. Defaults to <consumerID>-producer.",
  }),
  keepAlive: option.duration({ description: "MQTT keep-alive interval.", default: 60_000 }),
});

/** Dapr's `bindings.mqtt3` metadata names and defaults. */
export const mqttBindingOptions = defineOptions("bindings.mqtt3", {
  ...sharedFields,
  topic: option.string({
    required: true,
    description:
      "Topic the output publishes to (request metadata `topic` overrides it) and the input subscribes to (MQTT wildcards allowed)",
    example: "orders/created",
  }),
  consumerID: option.string({
    description:
      "Client ID of the input's connection, so its persistent session (cleanSession=false) survives restarts; defaults to the app ID. The output connects as <consumerID>-producer-<random>",
  }),
  direction: option.string({
    description: "Dapr's binding direction (`input`, `output` or `input, output`); informational",
  }),
});

export type MqttOptions = ParsedOptions<typeof mqttOptions.fields>;
export type MqttBindingOptions = ParsedOptions<typeof mqttBindingOptions.fields>;
/** What the shared producer and consumer read: the fields both kinds have. */
export type MqttSharedOptions = ParsedOptions<typeof sharedFields> & {
  /** Only `pubsub.mqtt3` configures it; mqtt.js's default (60 s) otherwise. */
  readonly keepAlive?: number;
};
