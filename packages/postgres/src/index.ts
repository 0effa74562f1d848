export type { PostgresBindingMetadata } from "./binding.ts";
export {
  createPostgresBinding,
  POSTGRES_BINDING_OPERATIONS,
  PostgresBinding,
  postgresBindingDefinition,
  postgresBindingOptions,
} from "./binding.ts";
export type { PostgresConfigurationMetadata } from "./configuration.ts";
export {
  configurationDefinition,
  configurationOptions,
  createPostgresConfigurationStore,
  MAX_CONFIGURATION_ROWS,
  PostgresConfigurationStore,
} from "./configuration.ts";
export type { PostgresLockStoreMetadata } from "./lock.ts";
export { createPostgresLockStore, lockDefinition, PostgresLockStore } from "./lock.ts";
export { manifest } from "./manifest.ts";
export type {
  PostgresLockOptions,
  PostgresStateOptions,
  PostgresStateV2Options,
} from "./options.ts";
export { lockOptions, stateOptions, stateV2Options } from "./options.ts";
export type { PostgresStateStoreMetadata } from "./state.ts";
export { createPostgresStateStore, PostgresStateStore, stateDefinition } from "./state.ts";
export type { PostgresV2StateStoreMetadata } from "./state-v2.ts";
export {
  createPostgresV2StateStore,
  PostgresV2StateStore,
  stateV2Definition,
} from "./state-v2.ts";
