import { randomUUID } from "node:crypto";
import { describePubSubConformance } from "@outrig/conformance";
import { startKafka, useService } from "@outrig/conformance/services";
import { createKafkaPubSub } from "../src/index.ts";

const kafka = useService(() => startKafka());

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

// consumerGroup falls back to consumerID; partitions handled concurrently; a short retry pause.
// (initialOffset=newest is covered in kafka.test.ts: in a group this size, rebalances before a
// partition's first commit can move its start past a message, the gap the README names.)
const byConsumerID = group("consumerid");
describePubSubConformance({
  name: "kafka-consumerid-concurrent",
  create: () =>
    createKafkaPubSub({
      brokers: kafka().brokers.join(","),
      consumerID: byConsumerID,
      clientID: "outrig-conformance",
      initialOffset: "oldest",
      partitionsConsumedConcurrently: "4",
      consumeRetryInterval: "50ms",
    }),
  waitBeforePublishMs: 500,
  metadataRoundTrip: true,
});
