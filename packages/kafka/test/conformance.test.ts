import { randomUUID } from "node:crypto";
import {
  describePubSubConformance,
  describeSidecarConformance,
  type StartSidecar,
} from "@outrig/conformance";
import { startKafka } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { createKafkaPubSub, manifest } from "../src/index.ts";

// Started while the file is collected: the sidecar suite below starts its sidecar then. One
// broker serves every suite of this file.
const broker = await startKafka();
afterAll(() => broker.stop());
const kafka = () => broker;

/** Every run gets its own consumer group, so committed offsets never meet another run's. */
const group = (variant: string): string => `conf-${variant}-${randomUUID().slice(0, 8)}`;

// Dapr's conformance configuration for pubsub.kafka: bulk publish and bulk subscribe, reading a
// new group's topics from the oldest offset.
const dapr = group("dapr");
describePubSubConformance({
  name: "kafka",
  create: () =>
    createKafkaPubSub({
      brokers: kafka().brokers.join(","),
      consumerGroup: dapr,
      authType: "none",
      initialOffset: "oldest",
    }),
  waitBeforePublishMs: 500,
  metadataRoundTrip: true,
});

// Dapr's default initialOffset=newest (each new member's partitions start where they are committed
// on assignment); consumerGroup falls back to consumerID; partitions handled concurrently; a short
// retry pause.
const byConsumerID = group("consumerid");
describePubSubConformance({
  name: "kafka-consumerid-concurrent",
  create: () =>
    createKafkaPubSub({
      brokers: kafka().brokers.join(","),
      consumerID: byConsumerID,
      clientID: "outrig-conformance",
      initialOffset: "newest",
      partitionsConsumedConcurrently: "4",
      consumeRetryInterval: "50ms",
    }),
  waitBeforePublishMs: 500,
  metadataRoundTrip: true,
});

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// pubsub.kafka and bindings.kafka through the sidecar: the binding publishes to the topic it reads.
describeSidecarConformance({
  name: "kafka",
  startSidecar: start,
  pubsub: {
    type: "pubsub.kafka",
    metadata: {
      brokers: broker.brokers.join(","),
      consumerGroup: "sc-{runId}",
      authType: "none",
      initialOffset: "oldest",
    },
    deliveryTimeoutMs: 60_000,
  },
  binding: {
    type: "bindings.kafka",
    metadata: {
      brokers: broker.brokers.join(","),
      topics: "sc-{runId}-binding",
      publishTopic: "sc-{runId}-binding",
      consumerGroup: "sc-{runId}-binding",
      authType: "none",
      initialOffset: "oldest",
    },
    output: (id) => ({ operation: "create", data: { id } }),
    input: "round-trip",
    deliveryTimeoutMs: 60_000,
  },
});
