import {
  type ComponentContext,
  type DeleteRequest,
  ETagError,
  type GetRequest,
  type GetResponse,
  hasEtag,
  jsonText,
  type Metadata,
  type OptionsInput,
  parseTtlInSeconds,
  type SetRequest,
  type StateCapability,
  type StateStoreDefinition,
  type TransactionRequest,
  ttlExpireTimeMetadata,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import pg from "pg";
import { connectionConfig } from "./connection-string.ts";
import { connectError, toComponentError } from "./errors.ts";
import { bareTableName, quoteTableName } from "./identifiers.ts";
import { type PostgresStateV2Options, stateV2Options } from "./options.ts";
import { parseCleanupInterval } from "./state.ts";

const COMPONENT = "state.postgresql";
const errors = componentErrors(COMPONENT);

/** What Dapr's v2 declares: no query API (values are opaque bytea). */
const CAPABILITIES: readonly StateCapability[] = ["ETAG", "TRANSACTIONAL", "TTL"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LIVE = "(expires_at IS NULL OR expires_at > now())";
const EXPIRY =
  "CASE WHEN $3::integer IS NULL THEN NULL ELSE now() + $3::integer * interval '1 second' END";

interface Row {
  value: Buffer;
  etag: string;
  expires_at: Date | null;
}

interface PreparedSet {
  key: string;
  value: Buffer;
  ttl: number | null;
  /** Null: no ETag. Undefined never: a malformed one fails before anything is sent. */
  etag: string | null;
  firstWrite: boolean;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/** The v2 names: the state table, the metadata table and the keys Dapr keeps in it. */
interface V2Tables {
  state: string;
  /** Unquoted name of the expiry index. */
  index: string;
  metadata: string;
  migrationKey: string;
  cleanupKey: string;
}

function v2Statements(t: V2Tables) {
  return {
    get: `SELECT value, etag::text AS etag, expires_at FROM ${t.state} WHERE key = $1 AND ${LIVE}`,
    upsert: `INSERT INTO ${t.state} AS s (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), ${EXPIRY})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), etag = gen_random_uuid(), expires_at = EXCLUDED.expires_at`,
    insertIfAbsent: `INSERT INTO ${t.state} AS s (key, value, etag, expires_at) VALUES ($1, $2, gen_random_uuid(), ${EXPIRY})
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), etag = gen_random_uuid(), expires_at = EXCLUDED.expires_at
      WHERE s.expires_at IS NOT NULL AND s.expires_at <= now()`,
    updateIfEtag: `UPDATE ${t.state} SET value = $2, updated_at = now(), etag = gen_random_uuid(), expires_at = ${EXPIRY}
      WHERE key = $1 AND etag = $4::uuid AND ${LIVE}`,
    delete: `DELETE FROM ${t.state} WHERE key = $1`,
    deleteIfEtag: `DELETE FROM ${t.state} WHERE key = $1 AND etag = $2::uuid AND ${LIVE}`,
    claimCleanup: `INSERT INTO ${t.metadata} AS m (key, value) VALUES ($1, now()::text)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
      WHERE m.value::timestamptz <= now() - $2::bigint * interval '1 millisecond'
      RETURNING key`,
    deleteExpired: `DELETE FROM ${t.state} WHERE expires_at IS NOT NULL AND expires_at <= now()`,
  };
}

/**
 * Creates Dapr's v2 table if the metadata table does not record it yet, under an advisory lock
 * so processes starting together migrate once. The level is kept under Dapr's own key
 * (`migrations-state-v2-<tablePrefix>`), so Dapr and outrig accept each other's tables.
 */
async function migrateV2(client: pg.PoolClient, t: V2Tables): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `outrig-migrate:${t.metadata}`,
    ]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t.metadata} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
    );
    const level = await client.query<{ value: string }>(
      `SELECT value FROM ${t.metadata} WHERE key = $1`,
      [t.migrationKey],
    );
    if ((Number.parseInt(level.rows[0]?.value ?? "0", 10) || 0) < 1) {
      await client.query(`CREATE TABLE IF NOT EXISTS ${t.state} (
        key text NOT NULL PRIMARY KEY,
        value bytea NOT NULL,
        etag uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamp with time zone NOT NULL DEFAULT now(),
        updated_at timestamp with time zone,
        expires_at timestamp with time zone
      )`);
      // The name PostgreSQL gives Dapr's unnamed index, so a table Dapr created already has it.
      await client.query(`CREATE INDEX IF NOT EXISTS "${t.index}" ON ${t.state} (expires_at)`);
      await client.query(
        `INSERT INTO ${t.metadata} (key, value) VALUES ($1, '1')
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [t.migrationKey],
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * `state.postgresql` version v2: Dapr's v2 layout (`value bytea`, a random UUID `etag` column,
 * `created_at`, `updated_at`, `expires_at`). Values are stored as bytes, JSON as its JSON text,
 * so reads cannot tell the two apart (no `kind`) and there is no query API, as in Dapr.
 */
export class PostgresV2StateStore extends BaseStateStore {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly options: PostgresStateV2Options;
  readonly #pool: pg.Pool;
  readonly #tables: V2Tables;
  readonly #sql: ReturnType<typeof v2Statements>;
  readonly #cleanupIntervalMs: number;
  #cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    pool: pg.Pool,
    options: PostgresStateV2Options,
    tables: V2Tables,
    cleanupIntervalMs: number,
  ) {
    super();
    this.options = options;
    this.capabilities = new Set<StateCapability>(
      options.actorStateStore ? [...CAPABILITIES, "ACTOR"] : CAPABILITIES,
    );
    this.#pool = pool;
    this.#tables = tables;
    this.#sql = v2Statements(tables);
    this.#cleanupIntervalMs = cleanupIntervalMs;
    if (cleanupIntervalMs > 0) {
      this.#cleanupTimer = setInterval(() => {
        // A failed round is retried at the next tick; the error has nowhere better to go.
        this.cleanupExpired().catch(() => {});
      }, cleanupIntervalMs);
      this.#cleanupTimer.unref();
    }
  }

  /** The quoted state table, e.g. `"public"."orders_state"`. */
  get table(): string {
    return this.#tables.state;
  }

  get pool(): pg.Pool {
    return this.#pool;
  }

  protected override async onPing(): Promise<void> {
    await this.#run(this.#pool, "SELECT 1", []);
  }

  protected override async onClose(): Promise<void> {
    if (this.#cleanupTimer) clearInterval(this.#cleanupTimer);
    await this.#pool.end().catch(() => {});
  }

  /** Deletes expired rows unless another process did within the interval; see the v1 store. */
  async cleanupExpired(intervalMs = this.#cleanupIntervalMs): Promise<number | undefined> {
    this.checkOpen();
    const claimed = await this.#run(this.#pool, this.#sql.claimCleanup, [
      this.#tables.cleanupKey,
      Math.max(0, Math.floor(intervalMs)),
    ]);
    if (claimed.rowCount === 0) return undefined;
    return (await this.#run(this.#pool, this.#sql.deleteExpired, [])).rowCount ?? 0;
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const result = await this.#run<Row>(this.#pool, this.#sql.get, [request.key]);
    const row = result.rows[0];
    if (!row) return { data: null };
    const metadata: Metadata | undefined = row.expires_at
      ? ttlExpireTimeMetadata(row.expires_at.getTime())
      : undefined;
    const data = new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength);
    return { data, etag: row.etag, ...(metadata ? { metadata } : {}) };
  }

  protected async setItem(request: SetRequest): Promise<void> {
    await this.#setOne(this.#pool, prepareSet(request));
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    await this.#deleteOne(this.#pool, request.key, hasEtag(request.etag) ? request.etag : null);
  }

  /** One SQL transaction: operations run in order; the first failed condition rolls all back. */
  protected override async transactItems(request: TransactionRequest): Promise<void> {
    const operations = request.operations.map((op) => {
      if (op.operation === "upsert") return { set: prepareSet(op.request) };
      const etag = hasEtag(op.request.etag) ? op.request.etag : null;
      return { delete: { key: op.request.key, etag } };
    });
    if (operations.length === 0) return;
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    let broken = false;
    try {
      await this.#run(client, "BEGIN", []);
      for (const [index, op] of operations.entries()) {
        const key = op.set ? op.set.key : op.delete?.key;
        try {
          if (op.set) await this.#setOne(client, op.set);
          else if (op.delete) await this.#deleteOne(client, op.delete.key, op.delete.etag);
        } catch (error) {
          if (error instanceof ETagError) {
            throw errors.etag(
              error.kind,
              `transaction rolled back: operation ${index + 1} (key ${JSON.stringify(key)}): ${error.message}`,
              { cause: error },
            );
          }
          throw error;
        }
      }
      await this.#run(client, "COMMIT", []);
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async #setOne(db: Queryable, item: PreparedSet): Promise<void> {
    if (item.etag !== null) {
      // A value that is no UUID can match no row: Dapr answers mismatch, never invalid.
      const result = UUID.test(item.etag)
        ? await this.#run(db, this.#sql.updateIfEtag, [item.key, item.value, item.ttl, item.etag])
        : { rowCount: 0 };
      if (result.rowCount === 0) throw errors.etag("mismatch");
      return;
    }
    const sql = item.firstWrite ? this.#sql.insertIfAbsent : this.#sql.upsert;
    const result = await this.#run(db, sql, [item.key, item.value, item.ttl]);
    if (result.rowCount === 0) {
      throw errors.etag("mismatch", "first-write: the key already exists");
    }
  }

  async #deleteOne(db: Queryable, key: string, etag: string | null): Promise<void> {
    if (etag === null) {
      await this.#run(db, this.#sql.delete, [key]);
      return;
    }
    const result = UUID.test(etag)
      ? await this.#run(db, this.#sql.deleteIfEtag, [key, etag])
      : { rowCount: 0 };
    if (result.rowCount === 0) throw errors.etag("mismatch");
  }

  async #run<R extends pg.QueryResultRow = pg.QueryResultRow>(
    db: Queryable,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await db.query<R>({ text, values });
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }
}

function prepareSet(request: SetRequest): PreparedSet {
  const ttl = parseTtlInSeconds(request.metadata);
  const raw = request.value;
  return {
    key: request.key,
    // bytea: bytes verbatim, a JSON value as its JSON text (Dapr's v2 does the same).
    value:
      raw instanceof Uint8Array
        ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
        : Buffer.from(jsonText(raw), "utf8"),
    ttl: ttl !== undefined && ttl > 0 ? ttl : null,
    etag: hasEtag(request.etag) ? request.etag : null,
    firstWrite: request.options?.concurrency === "first-write",
  };
}

/**
 * Creates `state.postgresql` v2 from Dapr metadata: connects, creates Dapr's v2 table when the
 * metadata table does not record it, and starts the periodic cleanup.
 */
export async function createPostgresV2StateStore(
  options: PostgresV2StateStoreMetadata,
  context: ComponentContext = {},
): Promise<PostgresV2StateStore> {
  return openPostgresV2StateStore(stateV2Options.fromOptions(options), context);
}

/** `createPostgresV2StateStore`'s options: the YAML metadata fields, typed; unknown ones are refused. */
export type PostgresV2StateStoreMetadata = OptionsInput<typeof stateV2Options.fields>;

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export async function openPostgresV2StateStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<PostgresV2StateStore> {
  const options = stateV2Options.parse(metadata);
  const prefix = options.tablePrefix ?? "";
  const metadataTableName = options.metadataTableName ?? "dapr_metadata";
  const tables: V2Tables = {
    state: quoteTableName(`${prefix}state`, "tablePrefix", COMPONENT),
    index: `${bareTableName(`${prefix}state`)}_expires_at_idx`.slice(0, 63),
    metadata: quoteTableName(metadataTableName, "metadataTableName", COMPONENT),
    migrationKey: `migrations-state-v2-${prefix}`,
    cleanupKey: `last-cleanup-state-v2-${metadataTableName}`,
  };
  const cleanupIntervalMs = parseCleanupInterval(options.cleanupInterval ?? "1h");
  const timeout = options.timeout ?? 20_000;
  const connection = connectionConfig(options.connectionString ?? "", COMPONENT);
  const pool = new pg.Pool({
    max: options.maxConns ?? 10,
    idleTimeoutMillis: options.connectionMaxIdleTime ?? 30_000,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    application_name: `outrig ${COMPONENT} v2${context.name ? ` ${context.name}` : ""}`,
    ...connection,
  });
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    try {
      await migrateV2(client, tables);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(error, connection, COMPONENT);
  }
  return new PostgresV2StateStore(pool, options, tables, cleanupIntervalMs);
}

export const stateV2Definition: StateStoreDefinition = {
  type: COMPONENT,
  kind: "state",
  version: "v2",
  status: "beta",
  description:
    "PostgreSQL state store, Dapr's v2 table layout: bytea values, UUID ETags, no query API",
  capabilities: [...CAPABILITIES, "ACTOR"],
  options: stateV2Options,
  create: openPostgresV2StateStore,
};
