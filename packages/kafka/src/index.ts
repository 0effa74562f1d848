export { rangeAssigner } from "./assigner.ts";
export {
  createKafkaBinding,
  KafkaBinding,
  kafkaBindingDefinition,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { KafkaBindingOptions, KafkaOptions } from "./options.ts";
export { kafkaBindingOptions, kafkaOptions } from "./options.ts";
export { createKafkaPubSub, KafkaPubSub } from "./pubsub.ts";
