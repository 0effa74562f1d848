import {
  ConfigError,
  defineOptions,
  type OptionsInput,
  option,
  type ParsedOptions,
} from "@outrig/core";

export const LOCK_COMPONENT_TYPE = "lock.sqlite";

/**
 * The metadata of `lock.sqlite` (Dapr has no SQLite lock store; the names follow its SQLite state
 * store, so one database file can hold both). Unknown keys are ignored so the sidecar's own
 * fields (`keyPrefix`) pass through.
 */
export const sqliteLockOptions = defineOptions(LOCK_COMPONENT_TYPE, {
  connectionString: option.string({
    required: true,
    description:
      "Path of the database file (every process locking through it sees the same locks), `:memory:` for a private one, or a `file:` URI.",
    example: "data/locks.db",
  }),
  tableName: option.string({
    default: "locks",
    description: "Table that holds the locks (resource id, owner, expiry); created when missing.",
  }),
  timeout: option.duration({
    default: 20_000,
    aliases: ["timeoutInSeconds"],
    description:
      "Longest an operation waits for the database lock (other processes writing) before it fails with ERR_TIMEOUT.",
  }),
  busyTimeout: option.duration({
    default: 2000,
    description:
      "SQLite's busy timeout: how long one attempt blocks waiting for a lock before outrig yields and retries.",
  }),
  cleanupInterval: option.duration({
    default: 3_600_000,
    aliases: ["cleanupIntervalInSeconds"],
    description:
      "How often expired locks are deleted (an expired lock is free regardless); 0 disables the cleanup.",
    example: "1h",
  }),
  disableWAL: option.boolean({
    default: false,
    description:
      "Keep SQLite's rollback journal instead of write-ahead logging (e.g. on network file systems).",
  }),
});

export type SqliteLockSettings = ParsedOptions<(typeof sqliteLockOptions)["fields"]>;

/** `createSqliteLockStore`'s options: the YAML metadata fields, typed. */
export type SqliteLockStoreOptions = OptionsInput<(typeof sqliteLockOptions)["fields"]>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function parseSqliteLockMetadata(
  metadata: Record<string, string> | undefined,
): SqliteLockSettings {
  const parsed = sqliteLockOptions.parse(metadata);
  const issues: { field: string; message: string }[] = [];
  // The table name is spliced into SQL text, so only plain identifiers are accepted.
  if (!IDENTIFIER.test(parsed.tableName)) {
    issues.push({
      field: "tableName",
      message: "must be a plain identifier (letters, digits, underscore)",
    });
  }
  if (parsed.busyTimeout > parsed.timeout) {
    issues.push({ field: "busyTimeout", message: "must not exceed timeout" });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: LOCK_COMPONENT_TYPE });
  return parsed;
}
