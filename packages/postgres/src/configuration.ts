import { randomUUID } from "node:crypto";
import {
  type ComponentContext,
  type ConfigurationHandler,
  type ConfigurationItem,
  type ConfigurationStore,
  type ConfigurationStoreDefinition,
  defineOptions,
  type Logger,
  type Metadata,
  type OptionsInput,
  option,
  silentLogger,
  UpdateQueue,
} from "@outrig/core";
import { type BackoffPolicy, BaseComponent, backoffDelay, componentErrors } from "@outrig/core/kit";
import pg from "pg";
import { connectionConfig } from "./connection-string.ts";
import { connectError, toComponentError } from "./errors.ts";
import { quoteTableName } from "./identifiers.ts";
import { stateOptions } from "./options.ts";

const COMPONENT = "configuration.postgresql";
const errors = componentErrors(COMPONENT);
/** A get of every item stops past this many rows instead of growing without bound. */
export const MAX_CONFIGURATION_ROWS = 100_000;
/** Reconnect backoff of the LISTEN connection. */
const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 2_000 };

/** `configuration.postgresql` metadata, spelled as Dapr's. */
export const configurationOptions = defineOptions(COMPONENT, {
  connectionString: stateOptions.fields.connectionString,
  table: option.string({
    required: true,
    description:
      "The table holding the items (columns KEY, VALUE, VERSION, METADATA, as Dapr documents), optionally schema.table; it must exist",
    example: "configtable",
  }),
  timeout: stateOptions.fields.timeout,
  maxConns: stateOptions.fields.maxConns,
  connectionMaxIdleTime: stateOptions.fields.connectionMaxIdleTime,
});

/** The subscribe metadata key naming the channel the table's trigger notifies (any case). */
export const NOTIFY_CHANNEL_KEY = "pgNotifyChannel";

interface Watch {
  keys: ReadonlySet<string>;
  channel: string;
  queue: UpdateQueue;
}

/** A column of the trigger's row (row_to_json folds Dapr's unquoted KEY, VALUE, ... to lower case). */
function field(row: Record<string, unknown>, name: string): unknown {
  if (name in row) return row[name];
  const found = Object.keys(row).find((k) => k.toLowerCase() === name);
  return found === undefined ? undefined : row[found];
}

function text(value: unknown): string {
  return value === null || value === undefined
    ? ""
    : typeof value === "string"
      ? value
      : JSON.stringify(value);
}

/** The METADATA column (JSON) as string metadata; anything else is no metadata. */
function metadataOf(value: unknown): Metadata {
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, text(v)]));
}

function itemOf(row: Record<string, unknown>): ConfigurationItem {
  return {
    value: text(field(row, "value")),
    version: text(field(row, "version")),
    metadata: metadataOf(field(row, "metadata")),
  };
}

function quoteChannel(channel: string): string {
  return `"${channel.replaceAll('"', '""')}"`;
}

/**
 * Dapr's `configuration.postgresql`: items are rows of `table` (KEY, VALUE, VERSION, METADATA);
 * changes come from the table's trigger, which `pg_notify`s the channel a subscription names in
 * its `pgNotifyChannel` metadata with `{"table", "action", "data": row}` (the trigger Dapr
 * documents). One dedicated connection LISTENs; when it is lost it reconnects with backoff and
 * LISTENs again, so subscriptions survive a server restart (changes made while it was away are
 * not replayed: NOTIFY is not stored).
 */
export class PostgresConfigurationStore extends BaseComponent implements ConfigurationStore {
  readonly componentType = COMPONENT;
  protected override readonly closedMessage = "the store is closed";
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #listenConfig: pg.ClientConfig;
  readonly #logger: Logger;
  readonly #watches = new Map<string, Watch>();
  readonly #channels = new Map<string, number>();
  #listener: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** Failed reconnects in a row. */
  #reconnectFailures = 0;

  constructor(pool: pg.Pool, table: string, listenConfig: pg.ClientConfig, logger: Logger) {
    super();
    this.#pool = pool;
    this.#table = table;
    this.#listenConfig = listenConfig;
    this.#logger = logger;
  }

  async get(
    keys: readonly string[],
    _metadata?: Metadata,
  ): Promise<Record<string, ConfigurationItem>> {
    this.checkOpen();
    try {
      const result =
        keys.length > 0
          ? await this.#pool.query(
              `SELECT key, value, version, metadata FROM ${this.#table} WHERE key = ANY($1)`,
              [[...keys]],
            )
          : await this.#pool.query(
              `SELECT key, value, version, metadata FROM ${this.#table} LIMIT ${MAX_CONFIGURATION_ROWS + 1}`,
            );
      if (result.rows.length > MAX_CONFIGURATION_ROWS) {
        throw errors.error(
          "ERR_INVALID_REQUEST",
          `the table holds more than ${MAX_CONFIGURATION_ROWS} items; ask for the keys you need`,
        );
      }
      const out: Record<string, ConfigurationItem> = {};
      for (const row of result.rows as Record<string, unknown>[]) out[text(row.key)] = itemOf(row);
      return out;
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  async subscribe(
    keys: readonly string[],
    metadata: Metadata,
    handler: ConfigurationHandler,
  ): Promise<string> {
    this.checkOpen();
    const entry = Object.entries(metadata).find(
      ([k]) => k.toLowerCase() === NOTIFY_CHANNEL_KEY.toLowerCase(),
    );
    const channel = entry?.[1] ?? "";
    if (!channel) {
      throw errors.error(
        "ERR_INVALID_REQUEST",
        `subscribing needs the ${NOTIFY_CHANNEL_KEY} metadata: the channel the table's trigger notifies`,
      );
    }
    if (Buffer.byteLength(channel) > 63) {
      throw errors.error("ERR_INVALID_REQUEST", `${NOTIFY_CHANNEL_KEY} is longer than 63 bytes`);
    }
    try {
      const listener = await this.#connectListener();
      if (!this.#channels.has(channel)) await listener.query(`LISTEN ${quoteChannel(channel)}`);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    this.#channels.set(channel, (this.#channels.get(channel) ?? 0) + 1);
    const id = randomUUID();
    const queue = new UpdateQueue(id, handler, {
      onError: (message, fields) => this.#logger.warn(message, { component: COMPONENT, ...fields }),
    });
    this.#watches.set(id, { keys: new Set(keys), channel, queue });
    return id;
  }

  async unsubscribe(id: string): Promise<void> {
    const watch = this.#watches.get(id);
    if (!watch) {
      throw errors.error("ERR_NOT_FOUND", `subscription ${id} does not exist`);
    }
    watch.queue.stop();
    this.#watches.delete(id);
    const left = (this.#channels.get(watch.channel) ?? 1) - 1;
    if (left > 0) {
      this.#channels.set(watch.channel, left);
      return;
    }
    this.#channels.delete(watch.channel);
    // Best effort: a channel left listened to only costs notifications nobody is handed.
    await this.#listener?.query(`UNLISTEN ${quoteChannel(watch.channel)}`).catch(() => undefined);
  }

  /** The LISTEN connection, opened on first use and re-opened (with every channel) after a loss. */
  #connectListener(): Promise<pg.Client> {
    if (this.#listener) return Promise.resolve(this.#listener);
    this.#connecting ??= (async () => {
      const client = new pg.Client(this.#listenConfig);
      client.on("error", () => this.#lost(client));
      client.on("end", () => this.#lost(client));
      client.on("notification", (n) => this.#notified(n.channel, n.payload));
      try {
        await client.connect();
        for (const channel of this.#channels.keys())
          await client.query(`LISTEN ${quoteChannel(channel)}`);
      } catch (error) {
        client.removeAllListeners("end");
        await client.end().catch(() => undefined);
        throw error;
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        throw errors.error("ERR_CLOSED", "the store is closed");
      }
      this.#listener = client;
      this.#reconnectFailures = 0;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #lost(client: pg.Client): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    client.removeAllListeners("notification");
    void client.end().catch(() => undefined);
    if (!this.closed && this.#channels.size > 0) {
      this.#logger.warn("configuration.postgresql lost its LISTEN connection; reconnecting", {
        component: COMPONENT,
      });
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#retry || this.closed) return;
    const delay = backoffDelay(RECONNECT_BACKOFF, ++this.#reconnectFailures);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connectListener().then(
        () => this.#logger.info("configuration.postgresql listens again", { component: COMPONENT }),
        () => this.#scheduleReconnect(),
      );
    }, delay);
  }

  #notified(channel: string, payload: string | undefined): void {
    let row: Record<string, unknown>;
    try {
      const parsed = JSON.parse(payload ?? "") as { data?: unknown };
      if (typeof parsed.data !== "object" || parsed.data === null)
        throw new Error("no data object");
      row = parsed.data as Record<string, unknown>;
    } catch (error) {
      this.#logger.warn(
        "configuration.postgresql ignored a notification that is not the documented trigger's",
        {
          component: COMPONENT,
          channel,
          error: (error as Error).message,
        },
      );
      return;
    }
    const key = text(field(row, "key"));
    const item = itemOf(row);
    for (const watch of this.#watches.values()) {
      if (watch.channel !== channel) continue;
      if (watch.keys.size === 0 || watch.keys.has(key)) {
        watch.queue.push({ [key]: { ...item, metadata: { ...item.metadata } } });
      }
    }
  }

  protected override async onPing(): Promise<void> {
    try {
      await this.#pool.query("SELECT 1");
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  protected override async onClose(): Promise<void> {
    clearTimeout(this.#retry);
    for (const watch of this.#watches.values()) watch.queue.stop();
    this.#watches.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    await Promise.allSettled([listener?.end(), this.#pool.end()]);
  }
}

/** `createPostgresConfigurationStore`'s options: the YAML metadata fields, typed. */
export type PostgresConfigurationMetadata = OptionsInput<typeof configurationOptions.fields>;

/** Library mode: the store from typed options named as in the YAML; an unknown one is a ConfigError. */
export async function createPostgresConfigurationStore(
  options: PostgresConfigurationMetadata,
  context: ComponentContext = {},
): Promise<PostgresConfigurationStore> {
  return openPostgresConfigurationStore(configurationOptions.fromOptions(options), context);
}

/** Creates a `configuration.postgresql` store from Dapr metadata; the table must exist. */
export async function openPostgresConfigurationStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<PostgresConfigurationStore> {
  const options = configurationOptions.parse(metadata);
  const table = quoteTableName(options.table, "table", COMPONENT);
  const connection = connectionConfig(options.connectionString, COMPONENT);
  const application = `outrig ${COMPONENT}${context.name ? ` ${context.name}` : ""}`;
  const pool = new pg.Pool({
    max: options.maxConns,
    idleTimeoutMillis: options.connectionMaxIdleTime,
    connectionTimeoutMillis: options.timeout,
    query_timeout: options.timeout,
    application_name: application,
    ...connection,
  });
  pool.on("error", () => {});
  let exists: boolean;
  try {
    const result = await pool.query("SELECT to_regclass($1) IS NOT NULL AS exists", [table]);
    exists = (result.rows[0] as { exists: boolean }).exists;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectError(error, connection, COMPONENT);
  }
  if (!exists) {
    await pool.end().catch(() => undefined);
    throw errors.config([
      {
        field: "table",
        message: `table ${options.table} does not exist; create it with columns KEY, VALUE, VERSION, METADATA and the notify trigger, as Dapr documents`,
      },
    ]);
  }
  const listenConfig: pg.ClientConfig = {
    connectionTimeoutMillis: options.timeout,
    application_name: `${application} listen`,
    // The LISTEN connection is idle for long stretches; keep-alive notices a dead peer.
    keepAlive: true,
    ...connection,
  };
  return new PostgresConfigurationStore(pool, table, listenConfig, context.logger ?? silentLogger);
}

export const configurationDefinition: ConfigurationStoreDefinition = {
  type: COMPONENT,
  kind: "configuration",
  version: "v1",
  status: "beta",
  description:
    "Configuration items as rows of a table, watched through its trigger's LISTEN/NOTIFY channel",
  capabilities: [],
  options: configurationOptions,
  create: openPostgresConfigurationStore,
};
