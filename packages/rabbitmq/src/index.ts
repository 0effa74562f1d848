export type { RabbitMQBindingOptions } from "./binding.ts";
export {
  createRabbitMQBinding,
  RabbitMQBinding,
  rabbitmqBindingDefinition,
  rabbitmqBindingOptions,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { RabbitMQOptions } from "./options.ts";
export { rabbitmqOptions } from "./options.ts";
export { createRabbitMQPubSub, RabbitMQPubSub } from "./pubsub.ts";
