import { describePubSubConformance } from "@outrig/conformance";
import { createMemoryPubSub } from "../src/pubsub.ts";

/** In-process timings: nothing settles asynchronously, so the waits Dapr sizes for brokers shrink. */
const fast = {
  maxReadDurationMs: 10_000,
  waitBeforePublishMs: 0,
  failureSleepMs: 50,
  quietPeriodMs: 200,
  unsubscribeSettleMs: 20,
  metadataRoundTrip: true,
  sharedBroker: false,
} as const;

describePubSubConformance({
  name: "memory (parallel)",
  create: () => createMemoryPubSub({ redeliverInterval: "50ms" }),
  ...fast,
});

describePubSubConformance({
  name: "memory (single)",
  create: () => createMemoryPubSub({ concurrencyMode: "single", redeliverInterval: "50ms" }),
  ...fast,
});
