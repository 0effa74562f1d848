import { describeBindingConformance } from "@outrig/conformance";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import amqp from "amqplib";
import { afterAll } from "vitest";
import { createRabbitMQBinding, rabbitmqBindingDefinition } from "../src/binding.ts";

const rabbitmq = useService(() => startRabbitMQ());

// Durable queues outlive the suite on a reused broker: remove the ones this file declared.
const queues = new Set<string>();
afterAll(async () => {
  const connection = await amqp.connect(rabbitmq().url);
  const ch = await connection.createChannel();
  for (const queue of queues) await ch.deleteQueue(queue).catch(() => {});
  await connection.close();
});

// Dapr's tests.yml for bindings.rabbitmq: durable true, deleteWhenUnused false, ttlInSeconds 60,
// maxPriority 5; create, operations, read. Each run gets its own queue.
const dapr = (queueName: string) => {
  queues.add(queueName);
  return daprMetadata(queueName);
};
const daprMetadata = (queueName: string) => ({
  host: rabbitmq().url,
  queueName,
  durable: "true",
  deleteWhenUnused: "false",
  ttlInSeconds: "60",
  maxPriority: "5",
});
describeBindingConformance({
  name: "rabbitmq",
  definition: rabbitmqBindingDefinition,
  createOutput: (ctx) => createRabbitMQBinding(dapr(ctx.unique())),
  createInput: (ctx) => createRabbitMQBinding(dapr(ctx.unique())),
  operations: ["operations", "read", "create"],
  // Nack with requeue: the broker hands the message to the reader again.
  inputFailure: "redelivered",
  readWaitMs: 200,
  quietPeriodMs: 1_000,
});

// A transient auto-delete queue with a prefetch limit of 1.
const transient = (queueName: string) => ({
  connectionString: rabbitmq().url,
  queueName,
  deleteWhenUnused: "true",
  prefetchCount: "1",
});
describeBindingConformance({
  name: "rabbitmq-transient-prefetch1",
  createOutput: (ctx) => createRabbitMQBinding(transient(ctx.unique())),
  createInput: (ctx) => createRabbitMQBinding(transient(ctx.unique())),
  operations: ["operations", "read", "create"],
  inputFailure: "redelivered",
  readWaitMs: 200,
  quietPeriodMs: 1_000,
});
