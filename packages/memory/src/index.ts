export {
  createMemoryConfigurationStore,
  MemoryConfigurationStore,
} from "./configuration.ts";
export type { EchoConversationMetadata } from "./conversation-echo.ts";
export { createEchoConversation, EchoConversation } from "./conversation-echo.ts";
export type { MemoryLockStoreMetadata, MemoryLockStoreOptions } from "./lock.ts";
export { createMemoryLockStore, MemoryLockStore } from "./lock.ts";
export { manifest } from "./manifest.ts";
export type { MemoryPubSubMetadata, MemoryPubSubOptions } from "./pubsub.ts";
export { createMemoryPubSub, MemoryPubSub } from "./pubsub.ts";
export type { MemoryStateStoreMetadata, MemoryStateStoreOptions } from "./state.ts";
export { createMemoryStateStore, MemoryStateStore } from "./state.ts";
