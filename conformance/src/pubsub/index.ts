export type { MessageTtlStrategy, PubSubConformanceConfig } from "./config.ts";
export { describePubSubConformance, PUBSUB_CASES } from "./suite.ts";
