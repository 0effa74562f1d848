import { describeBindingConformance } from "@outrig/conformance";
import { startMosquitto, useService } from "@outrig/conformance/services";
import { createMqttBinding, mqttBindingDefinition } from "../src/binding.ts";

const mosquitto = useService(() => startMosquitto());

// Dapr's tests.yml for bindings.mqtt3: topic, qos 1, backOffMaxRetries 5; create, operations, read.
describeBindingConformance({
  name: "mqtt3-qos1",
  definition: mqttBindingDefinition,
  createOutput: (ctx) =>
    createMqttBinding({ url: mosquitto().url, topic: ctx.unique(), consumerID: ctx.unique("out") }),
  createInput: (ctx) =>
    createMqttBinding({
      url: mosquitto().url,
      topic: ctx.unique(),
      consumerID: ctx.unique("in"),
      qos: "1",
      backOffMaxRetries: "5",
      backOffInitialInterval: "50ms",
    }),
  operations: ["operations", "read", "create"],
  // Retried in process, then re-published to the topic: the same reader sees it again.
  inputFailure: "redelivered",
  readWaitMs: 300,
  quietPeriodMs: 1_000,
});

// Dapr's default backOffMaxRetries 0: a failed message goes straight back to its topic.
describeBindingConformance({
  name: "mqtt3-qos2-republish",
  createOutput: (ctx) =>
    createMqttBinding({
      url: mosquitto().url,
      topic: ctx.unique(),
      qos: "2",
      consumerID: ctx.unique("out"),
    }),
  createInput: (ctx) =>
    createMqttBinding({
      url: mosquitto().url,
      topic: ctx.unique(),
      qos: "2",
      consumerID: ctx.unique("in"),
    }),
  operations: ["operations", "read", "create"],
  inputFailure: "redelivered",
  readWaitMs: 300,
  quietPeriodMs: 1_000,
});

// backOffMaxRetries -1: a failing message is retried in process and never acknowledged while it
// fails, so after its reader closes, the persistent session hands it to the next reader.
describeBindingConformance({
  name: "mqtt3-kept-in-session",
  createOutput: (ctx) =>
    createMqttBinding({ url: mosquitto().url, topic: ctx.unique(), consumerID: ctx.unique("out") }),
  createInput: (ctx) =>
    createMqttBinding({
      url: mosquitto().url,
      topic: ctx.unique(),
      consumerID: ctx.unique("in"),
      backOffMaxRetries: "-1",
      backOffInitialInterval: "50ms",
      backOffMaxInterval: "200ms",
    }),
  operations: ["operations", "read", "create"],
  inputFailure: "kept",
  readWaitMs: 300,
  quietPeriodMs: 1_000,
});
