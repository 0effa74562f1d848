export { manifest } from "./manifest.ts";
export type { RedisPubSubOptions, RedisStateOptions } from "./options.ts";
export { pubsubOptions, stateOptions } from "./options.ts";
export { createRedisStateStore, RedisStateStore, stateDefinition } from "./state.ts";
