export {
  createMemoryConfigurationStore,
  MemoryConfigurationStore,
} from "./configuration.ts";
export { manifest } from "./manifest.ts";
export type { MemoryPubSubMetadata, MemoryPubSubOptions } from "./pubsub.ts";
export { createMemoryPubSub, MemoryPubSub } from "./pubsub.ts";
export type { MemoryStateStoreMetadata, MemoryStateStoreOptions } from "./state.ts";
export { createMemoryStateStore, MemoryStateStore } from "./state.ts";
