import type { PubSubConformanceConfig } from "@outrig/conformance";

/** In-process timings: nothing settles asynchronously, so the waits Dapr sizes for brokers shrink. */
export const inProcessTimings = {
  maxReadDurationMs: 10_000,
  waitBeforePublishMs: 0,
  failureSleepMs: 50,
  quietPeriodMs: 200,
  unsubscribeSettleMs: 20,
  metadataRoundTrip: true,
  sharedBroker: false,
} satisfies Partial<PubSubConformanceConfig>;
