export { createSqliteLockStore, SqliteLockStore } from "./lock.ts";
export type { SqliteLockStoreOptions } from "./lock-options.ts";
export { sqliteLockOptions } from "./lock-options.ts";
export { manifest } from "./manifest.ts";
export type { SqliteSettings, SqliteStateStoreOptions } from "./options.ts";
export { parseSqliteMetadata, sqliteOptions } from "./options.ts";
export { createSqliteStateStore, SqliteStateStore } from "./state.ts";
