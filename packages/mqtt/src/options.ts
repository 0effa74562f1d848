import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/** Metadata of `pubsub.mqtt3`; names and defaults follow Dapr's component. */
export const mqttOptions = defineOptions("pubsub.mqtt3", {
  url: option.string({
    description:
      "Broker address: tcp://[user[:password]@]host[:port]; ssl://, mqtts:// or tls:// for TLS, ws:// and wss:// for WebSockets.",
    required: true,
    sensitive: true,
    example: "tcp://localhost:1883",
  }),
  consumerID: option.string({
    description:
      "Client ID prefix of the subscriber connections (a persistent session each when cleanSession=false). Defaults to the app id.",
  }),
  producerID: option.string({
    description: "Client ID of the publisher connection. Defaults to <consumerID>-producer.",
  }),
  qos: option.integer({
    description: "Quality of service for publishes and subscriptions: 0, 1 or 2.",
    default: 1,
    min: 0,
    max: 2,
  }),
  retain: option.boolean({
    description:
      "Publish messages as retained: the broker keeps the last one per topic for new subscribers.",
    default: false,
  }),
  cleanSession: option.boolean({
    description:
      "Start every connection with a fresh session. false keeps subscriptions and queued QoS 1/2 messages at the broker while the subscriber is away.",
    default: false,
  }),
  backOffMaxRetries: option.integer({
    description:
      "In-process retries of a failed handler before the message is re-published to its topic; -1 retries forever (and keeps order).",
    default: 0,
    min: -1,
  }),
  backOffInitialInterval: option.duration({
    description: "Pause before the first in-process retry; doubles on every further one.",
    default: 100,
  }),
  backOffMaxInterval: option.duration({
    description: "Longest pause between in-process retries.",
    default: 5000,
  }),
  keepAlive: option.duration({ description: "MQTT keep-alive interval.", default: 60_000 }),
  caCert: option.string({ description: "PEM CA certificate to verify the broker." }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS." }),
  clientKey: option.string({ description: "PEM private key of clientCert.", sensitive: true }),
});

export type MqttOptions = ParsedOptions<typeof mqttOptions.fields>;
