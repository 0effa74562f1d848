export {
  createRabbitMQBinding,
  RabbitMQBinding,
  rabbitmqBindingDefinition,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { RabbitMQBindingOptions, RabbitMQOptions } from "./options.ts";
export { rabbitmqBindingOptions, rabbitmqOptions } from "./options.ts";
export { createRabbitMQPubSub, RabbitMQPubSub } from "./pubsub.ts";
