export type { RedisBindingMetadata } from "./binding.ts";
export {
  createRedisBinding,
  REDIS_BINDING_OPERATIONS,
  RedisBinding,
  redisBindingDefinition,
  redisBindingOptions,
} from "./binding.ts";
export type { RedisConfigurationMetadata } from "./configuration.ts";
export {
  configurationDefinition,
  createRedisConfigurationStore,
  MAX_CONFIGURATION_KEYS,
  parseConfigurationValue,
  RedisConfigurationStore,
} from "./configuration.ts";
export { manifest } from "./manifest.ts";
export type { RedisPubSubOptions, RedisStateOptions } from "./options.ts";
export { configurationOptions, pubsubOptions, stateOptions } from "./options.ts";
export type { RedisPubSubMetadata } from "./pubsub.ts";
export { createRedisPubSub, pubsubDefinition, RedisPubSub } from "./pubsub.ts";
export type { RedisStateStoreMetadata } from "./state.ts";
export { createRedisStateStore, RedisStateStore, stateDefinition } from "./state.ts";
