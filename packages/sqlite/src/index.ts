export { manifest } from "./manifest.ts";
export type { SqliteSettings, SqliteStateStoreOptions } from "./options.ts";
export { parseSqliteMetadata, sqliteOptions } from "./options.ts";
export { createSqliteStateStore, SqliteStateStore } from "./state.ts";
