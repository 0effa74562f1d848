import { defineOptions, option } from "@outrig/core";

/** `state.postgresql` metadata, spelled as Dapr's PostgreSQL v1 state store so its YAML loads unchanged. */
export const stateOptions = defineOptions("state.postgresql", {
  connectionString: option.string({
    required: true,
    sensitive: true,
    aliases: ["url"],
    description:
      "libpq connection string, as a URL (postgres://user:pass@host:5432/db) or key=value pairs (host=... user=... dbname=...)",
    example: "host=localhost user=postgres password=example port=5432 database=dapr_test",
  }),
  tableName: option.string({
    default: "state",
    description:
      "Table holding the items, optionally schema-qualified (schema.table); created if missing",
  }),
  metadataTableName: option.string({
    default: "dapr_metadata",
    description: "Table holding the schema version and the last cleanup time; created if missing",
  }),
  timeout: option.duration({
    default: 20_000,
    aliases: ["timeoutInSeconds"],
    description: "Timeout for each database operation, and for opening a connection",
  }),
  cleanupInterval: option.string({
    default: "1h",
    aliases: ["cleanupIntervalInSeconds"],
    description:
      "How often expired rows are deleted (a duration, or seconds); 0 or a negative value disables the cleanup",
  }),
  maxConns: option.integer({
    default: 10,
    min: 1,
    description: "Maximum number of connections in the pool",
  }),
  connectionMaxIdleTime: option.duration({
    default: 30_000,
    description: "How long an idle connection stays open in the pool",
  }),
  actorStateStore: option.boolean({
    default: false,
    description: "Marks this store as the actor state store (read by the runtime)",
  }),
});

export type PostgresStateOptions = ReturnType<typeof stateOptions.parse>;

/**
 * `state.postgresql` version v2 metadata, spelled as Dapr's PostgreSQL v2 state store: the table
 * is `<tablePrefix>state`, so several stores can share one schema.
 */
export const stateV2Options = defineOptions("state.postgresql", {
  connectionString: stateOptions.fields.connectionString,
  tablePrefix: option.string({
    default: "",
    description:
      "Prefix of the state table's name (the table is <tablePrefix>state), optionally with a schema (schema.prefix_)",
    example: "public.orders_",
  }),
  metadataTableName: stateOptions.fields.metadataTableName,
  timeout: stateOptions.fields.timeout,
  cleanupInterval: stateOptions.fields.cleanupInterval,
  maxConns: stateOptions.fields.maxConns,
  connectionMaxIdleTime: stateOptions.fields.connectionMaxIdleTime,
  actorStateStore: stateOptions.fields.actorStateStore,
});

export type PostgresStateV2Options = ReturnType<typeof stateV2Options.parse>;

/**
 * `lock.postgresql` metadata (Dapr has no PostgreSQL lock store; the names follow its PostgreSQL
 * state store, so the same connection settings serve both).
 */
export const lockOptions = defineOptions("lock.postgresql", {
  connectionString: option.string({
    required: true,
    sensitive: true,
    aliases: ["url"],
    description:
      "libpq connection string, as a URL (postgres://user:pass@host:5432/db) or key=value pairs (host=... user=... dbname=...)",
    example: "host=localhost user=postgres password=example port=5432 database=dapr_test",
  }),
  tableName: option.string({
    default: "dapr_locks",
    description:
      "Table holding the locks (resource id, owner, expiry), optionally schema-qualified; created if missing",
  }),
  timeout: option.duration({
    default: 20_000,
    aliases: ["timeoutInSeconds"],
    description: "Timeout for each database operation, and for opening a connection",
  }),
  cleanupInterval: option.string({
    default: "1h",
    aliases: ["cleanupIntervalInSeconds"],
    description:
      "How often expired locks are deleted (a duration, or seconds); 0 or a negative value disables the cleanup",
  }),
  maxConns: option.integer({
    default: 10,
    min: 1,
    description: "Maximum number of connections in the pool",
  }),
  connectionMaxIdleTime: option.duration({
    default: 30_000,
    description: "How long an idle connection stays open in the pool",
  }),
});

export type PostgresLockOptions = ReturnType<typeof lockOptions.parse>;
