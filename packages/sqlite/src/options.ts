import {
  ConfigError,
  defineOptions,
  type OptionsInput,
  option,
  type ParsedOptions,
  parseDuration,
} from "@outrig/core";

export const COMPONENT_TYPE = "state.sqlite";

/** The metadata of `state.sqlite`, named as Dapr's SQLite component names it so its YAML works. */
export const sqliteOptions = defineOptions(COMPONENT_TYPE, {
  connectionString: option.string({
    required: true,
    description:
      "Path of the database file, `:memory:` for a private in-memory database, or a `file:` URI (`file:data.db?_pragma=foreign_keys(1)`).",
    example: "data/state.db",
  }),
  tableName: option.string({
    default: "state",
    description: "Table that holds the state; created when missing.",
  }),
  metadataTableName: option.string({
    default: "metadata",
    description: "Table that holds the schema version and the time of the last cleanup.",
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
  cleanupInterval: option.string({
    default: "1h",
    aliases: ["cleanupIntervalInSeconds"],
    description:
      "How often expired rows are deleted (a duration; 0 or negative disables the cleanup).",
  }),
  actorStateStore: option.boolean({
    default: false,
    description: "Marks the store as the actor state store; it then declares the ACTOR capability.",
  }),
  disableWAL: option.boolean({
    default: false,
    description:
      "Keep SQLite's rollback journal instead of write-ahead logging (e.g. on network file systems).",
  }),
});

export type SqliteMetadata = ParsedOptions<(typeof sqliteOptions)["fields"]>;

export interface SqliteSettings extends Omit<SqliteMetadata, "cleanupInterval"> {
  /** Milliseconds between cleanups of expired rows (YAML: `cleanupInterval`); 0 disables them. */
  readonly cleanupInterval: number;
}

/** `createSqliteStateStore`'s options: the YAML metadata fields, typed. */
export type SqliteStateStoreOptions = OptionsInput<(typeof sqliteOptions)["fields"]>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Parses the metadata, adding the checks the generic schema cannot express. */
export function parseSqliteMetadata(metadata: Record<string, string> | undefined): SqliteSettings {
  const parsed = sqliteOptions.parse(metadata);
  const issues: { field: string; message: string }[] = [];
  for (const field of ["tableName", "metadataTableName"] as const) {
    // Table names are spliced into SQL text, so only plain identifiers are accepted.
    if (!IDENTIFIER.test(parsed[field])) {
      issues.push({ field, message: "must be a plain identifier (letters, digits, underscore)" });
    }
  }
  if (parsed.tableName.toLowerCase() === parsed.metadataTableName.toLowerCase()) {
    issues.push({ field: "metadataTableName", message: "must differ from tableName" });
  }
  // Dapr disables the cleanup with 0 or a negative value, which a plain duration field rejects.
  const raw = parsed.cleanupInterval.trim();
  let cleanupIntervalMs = 0;
  if (!raw.startsWith("-")) {
    const ms = parseDuration(raw, "s");
    if (ms === undefined) {
      issues.push({
        field: "cleanupInterval",
        message: "must be a duration such as 1h, 10m or 30s",
      });
    } else {
      cleanupIntervalMs = ms;
    }
  } else if (parseDuration(raw.slice(1), "s") === undefined) {
    issues.push({ field: "cleanupInterval", message: "must be a duration such as 1h, 10m or 30s" });
  }
  if (parsed.busyTimeout > parsed.timeout) {
    issues.push({ field: "busyTimeout", message: "must not exceed timeout" });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: COMPONENT_TYPE });
  const { cleanupInterval: _omit, ...rest } = parsed;
  return Object.freeze({ ...rest, cleanupInterval: cleanupIntervalMs });
}
