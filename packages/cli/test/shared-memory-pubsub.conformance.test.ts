import { describePubSubConformance } from "@outrig/conformance";
import type { PubSubDefinition } from "@outrig/core";
import { sharedMemoryManifest } from "../src/shared-memory-pubsub.ts";

const definition = sharedMemoryManifest.components.find(
  (c) => c.type === "pubsub.in-memory",
) as PubSubDefinition;

// Every create() is another sidecar's handle on the same broker (same component name), so the
// suite's close case checks that a closed handle receives nothing while another one publishes.
const name = `shared-pubsub-${process.pid}`;

describePubSubConformance({
  name: "pubsub.in-memory shared by the sidecars of one outrig process",
  create: () => definition.create({ redeliverInterval: "50ms" }, { name }),
  maxReadDurationMs: 10_000,
  waitBeforePublishMs: 0,
  failureSleepMs: 50,
  quietPeriodMs: 200,
  unsubscribeSettleMs: 20,
  metadataRoundTrip: true,
  sharedBroker: true,
});
