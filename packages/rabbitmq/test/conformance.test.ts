import { randomUUID } from "node:crypto";
import {
  describePubSubConformance,
  describeSidecarConformance,
  type StartSidecar,
} from "@outrig/conformance";
import { startRabbitMQ } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { createRabbitMQPubSub, manifest } from "../src/index.ts";

// Started while the file is collected: the sidecar suite below starts its sidecar then.
const broker = await startRabbitMQ();
afterAll(() => broker.stop());
const rabbit = () => broker;

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

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// pubsub.rabbitmq and bindings.rabbitmq through the sidecar: the binding publishes to its queue.
// Transient topology (auto-deleted queues), so a reused broker keeps nothing of the run.
describeSidecarConformance({
  name: "rabbitmq",
  startSidecar: start,
  pubsub: {
    type: "pubsub.rabbitmq",
    metadata: {
      connectionString: broker.url,
      consumerID: "sc-{runId}",
      durable: "false",
      deletedWhenUnused: "true",
      requeueInFailure: "true",
    },
    waitBeforePublishMs: 300,
  },
  binding: {
    type: "bindings.rabbitmq",
    metadata: { host: broker.url, queueName: "sc-{runId}-binding", deleteWhenUnused: "true" },
    output: (id) => ({ operation: "create", data: { id } }),
    input: "round-trip",
  },
});
