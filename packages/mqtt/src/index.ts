export {
  createMqttBinding,
  MqttBinding,
  mqttBindingDefinition,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { MqttBindingOptions, MqttOptions } from "./options.ts";
export { mqttBindingOptions, mqttOptions } from "./options.ts";
export { createMqttPubSub, MqttPubSub } from "./pubsub.ts";
