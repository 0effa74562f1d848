import { describeBindingConformance } from "@outrig/conformance";
import { startKafka, useService } from "@outrig/conformance/services";
import { createKafkaBinding, kafkaBindingDefinition } from "../src/binding.ts";

const kafka = useService(() => startKafka());

// Dapr's tests.yml for bindings.kafka: topics = publishTopic, consumerGroup; it lists create and
// operations only. Here the input side is read too: every run gets its own topic and group.
describeBindingConformance({
  name: "kafka",
  definition: kafkaBindingDefinition,
  createOutput: (ctx) =>
    createKafkaBinding({ brokers: kafka().brokers.join(","), publishTopic: ctx.unique() }),
  createInput: (ctx) =>
    createKafkaBinding({
      brokers: kafka().brokers.join(","),
      topics: ctx.unique(),
      consumerGroup: ctx.unique("group"),
      initialOffset: "oldest",
    }),
  operations: ["operations", "read", "create"],
  // Retried in process; the offset moves only after success.
  inputFailure: "redelivered",
  readWaitMs: 500,
  quietPeriodMs: 1_500,
});

// Dapr's default initialOffset newest: read resolves only once the consumer joined its group, so
// an event created afterwards is read.
describeBindingConformance({
  name: "kafka-newest",
  createOutput: (ctx) =>
    createKafkaBinding({ brokers: kafka().brokers.join(","), publishTopic: ctx.unique() }),
  createInput: (ctx) =>
    createKafkaBinding({
      brokers: kafka().brokers.join(","),
      topics: ctx.unique(),
      consumerID: ctx.unique("group"),
    }),
  operations: ["operations", "read", "create"],
  inputFailure: "redelivered",
  readWaitMs: 500,
  quietPeriodMs: 1_500,
});
