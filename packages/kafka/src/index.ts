export { rangeAssigner } from "./assigner.ts";
export { manifest } from "./manifest.ts";
export type { KafkaOptions } from "./options.ts";
export { kafkaOptions } from "./options.ts";
export { createKafkaPubSub, KafkaPubSub } from "./pubsub.ts";
