export type { MessageTtlStrategy, PubSubConformanceConfig } from "./pubsub/index.ts";
export { describePubSubConformance, PUBSUB_CASES } from "./pubsub/index.ts";
export type { StateConformanceConfig } from "./state/index.ts";
export { describeStateStoreConformance } from "./state/index.ts";
