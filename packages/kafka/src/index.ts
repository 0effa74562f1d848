export { rangeAssigner } from "./assigner.ts";
export type { KafkaBindingOptions } from "./binding.ts";
export {
  createKafkaBinding,
  KafkaBinding,
  kafkaBindingDefinition,
  kafkaBindingOptions,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { KafkaOptions } from "./options.ts";
export { kafkaOptions } from "./options.ts";
export { createKafkaPubSub, KafkaPubSub } from "./pubsub.ts";
