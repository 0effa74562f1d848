import { randomUUID } from "node:crypto";
import { describePubSubConformance } from "@outrig/conformance";
import { startRabbitMQ, useService } from "@outrig/conformance/services";
import { createRabbitMQPubSub } from "../src/index.ts";

const rabbit = useService(() => startRabbitMQ());

/** Every run gets its own consumer ID, so its queues never meet another run's. */
const consumerID = (variant: string): string => `conf-${variant}-${randomUUID().slice(0, 8)}`;

// Dapr's own conformance configuration for pubsub.rabbitmq. requeueInFailure is what makes a failed
// handler's message come back; with Dapr's default (false) it is dead-lettered or dropped instead.
const daprConfig = consumerID("dapr");
describePubSubConformance({
  name: "rabbitmq",
  create: () =>
    createRabbitMQPubSub({
      connectionString: rabbit().url,
      consumerID: daprConfig,
      durable: "false",
      deletedWhenUnused: "false",
      autoAck: "false",
      deliveryMode: "0",
      requeueInFailure: "true",
      prefetchCount: "0",
      concurrencyMode: "single",
    }),
  waitBeforePublishMs: 300,
  metadataRoundTrip: true,
  messageTtlStrategy: "resubscribe",
});

// Durable topology, persistent messages, parallel handlers with a prefetch window, a dead-letter
// exchange, and hostname-style connection settings instead of a URL.
const durable = consumerID("durable");
describePubSubConformance({
  name: "rabbitmq-durable-parallel",
  create: () => {
    const url = new URL(rabbit().url);
    return createRabbitMQPubSub({
      protocol: "amqp",
      hostname: url.host,
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      consumerID: durable,
      durable: "true",
      deletedWhenUnused: "false",
      deliveryMode: "2",
      requeueInFailure: "true",
      prefetchCount: "20",
      concurrencyMode: "parallel",
      enableDeadLetter: "true",
      publisherConfirm: "true",
    });
  },
  waitBeforePublishMs: 300,
  metadataRoundTrip: true,
  messageTtlStrategy: "resubscribe",
});
