export {
  createPostgresBinding,
  POSTGRES_BINDING_OPERATIONS,
  PostgresBinding,
  postgresBindingDefinition,
  postgresBindingOptions,
} from "./binding.ts";
export { manifest } from "./manifest.ts";
export type { PostgresStateOptions } from "./options.ts";
export { stateOptions } from "./options.ts";
export { createPostgresStateStore, PostgresStateStore, stateDefinition } from "./state.ts";
