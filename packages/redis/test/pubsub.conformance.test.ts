import { randomUUID } from "node:crypto";
import { describePubSubConformance } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { afterAll } from "vitest";
import { createRedisPubSub } from "../src/index.ts";

// The component is created while the suite runs, but the service must exist when it is collected.
const redis = await startRedis();
afterAll(async () => {
  await redis.stop();
});

const group = `conformance-${randomUUID().slice(0, 8)}`;
// A consumer group reads from the start of its stream, so a subscription need not settle first.
const timings = { waitBeforePublishMs: 200, metadataRoundTrip: true } as const;

// Dapr's own conformance settings for pubsub.redis.
describePubSubConformance({
  name: "redis streams (concurrency 1)",
  create: () =>
    createRedisPubSub({
      redisHost: redis.url,
      consumerID: `${group}-single`,
      processingTimeout: "5s",
      redeliverInterval: "1s",
      concurrency: "1",
    }),
  ...timings,
});

describePubSubConformance({
  name: "redis streams (parallel, trimmed)",
  create: () =>
    createRedisPubSub({
      redisHost: redis.url,
      consumerID: `${group}-parallel`,
      processingTimeout: "2s",
      redeliverInterval: "500ms",
      concurrency: "10",
      queueDepth: "5",
      maxLenApprox: "10000",
    }),
  ...timings,
});
