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
export type { RedisLockStoreMetadata } from "./lock.ts";
export { createRedisLockStore, lockDefinition, RedisLockStore } from "./lock.ts";
export { manifest } from "./manifest.ts";
export type { RedisLockOptions, RedisPubSubOptions, RedisStateOptions } from "./options.ts";
export { configurationOptions, lockOptions, pubsubOptions, stateOptions } from "./options.ts";
export type { RedisPubSubMetadata } from "./pubsub.ts";
export { createRedisPubSub, pubsubDefinition, RedisPubSub } from "./pubsub.ts";
export type { RedisStateStoreMetadata } from "./state.ts";
export { createRedisStateStore, RedisStateStore, stateDefinition } from "./state.ts";
