import { describePubSubConformance } from "@outrig/conformance";
import { createMemoryPubSub } from "../src/pubsub.ts";
import { inProcessTimings } from "./pubsub-timings.ts";

describePubSubConformance({
  name: "memory (parallel)",
  create: () => createMemoryPubSub({ redeliverInterval: "50ms" }),
  ...inProcessTimings,
});

describePubSubConformance({
  name: "memory (single)",
  create: () => createMemoryPubSub({ concurrencyMode: "single", redeliverInterval: "50ms" }),
  ...inProcessTimings,
});
