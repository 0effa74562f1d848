export type { StateConformanceConfig } from "./state/index.ts";
export { describeStateStoreConformance } from "./state/index.ts";
export type { PubSubConformanceConfig } from "./pubsub/index.ts";
export { describePubSubConformance } from "./pubsub/index.ts";
