export type { MqttBindingOptions } from "./binding.ts";
export {
  createMqttBinding,
  MqttBinding,
  mqttBindingDefinition,
  mqttBindingOptions,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { MqttOptions } from "./options.ts";
export { mqttOptions } from "./options.ts";
export { createMqttPubSub, MqttPubSub } from "./pubsub.ts";
