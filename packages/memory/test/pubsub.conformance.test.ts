import { describePubSubConformance } from "@outrig/conformance";
import { notSupported, type PubSub } from "@outrig/core";
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

/**
 * A component without native bulk operations, as many brokers are: the suite must then see
 * ERR_NOT_SUPPORTED and pass through core's one-by-one and batching fallbacks.
 */
async function createWithoutBulk(): Promise<PubSub> {
  const inner = await createMemoryPubSub({ redeliverInterval: "50ms" });
  return {
    capabilities: new Set(
      [...inner.capabilities].filter((c) => c !== "BULK_PUBSUB" && c !== "BULK_SUBSCRIBE"),
    ),
    publish: (request) => inner.publish(request),
    subscribe: (request, handler) => inner.subscribe(request, handler),
    bulkPublish: async () => {
      throw notSupported("bulkPublish", inner.componentType);
    },
    bulkSubscribe: async () => {
      throw notSupported("bulkSubscribe", inner.componentType);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

describePubSubConformance({
  name: "memory without bulk operations",
  create: createWithoutBulk,
  ...inProcessTimings,
});
