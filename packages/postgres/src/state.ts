import {
  type BulkGetItem,
  type BulkItemError,
  type BulkOptions,
  type ComponentContext,
  type DeleteRequest,
  ETagError,
  type GetRequest,
  type GetResponse,
  hasEtag,
  jsonText,
  type KeysLikeRequest,
  type KeysLikeResponse,
  type Metadata,
  type OptionsInput,
  parseDuration,
  parseTtlInSeconds,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  type StateStoreDefinition,
  type TransactionRequest,
  toBulkGetItem,
  ttlExpireTimeMetadata,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import pg from "pg";
import { connectionConfig } from "./connection-string.ts";
import { connectError, toComponentError } from "./errors.ts";
import { bareTableName, quoteTableName } from "./identifiers.ts";
import { type PostgresStateOptions, stateOptions } from "./options.ts";
import { buildQuery, Params } from "./query.ts";
import { lastCleanupKey, migrate, type Tables } from "./schema.ts";
import { type Statements, statements } from "./statements.ts";

const COMPONENT = "state.postgresql";
const errors = componentErrors(COMPONENT);

const CAPABILITIES: readonly StateCapability[] = [
  "ETAG",
  "TRANSACTIONAL",
  "QUERY_API",
  "TTL",
  "DELETE_WITH_PREFIX",
  "KEYS_LIKE",
];

interface Row {
  key: string;
  value: string;
  isbinary: boolean;
  etag: string;
  expiredate: Date | null;
}

/** A write, validated and encoded before anything is sent. */
interface PreparedSet {
  key: string;
  value: string;
  isBinary: boolean;
  /** Whole seconds, or null for no expiry. */
  ttl: number | null;
  etag: string | null;
  firstWrite: boolean;
}

interface PreparedDelete {
  key: string;
  etag: string | null;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/**
 * `state.postgresql`: Dapr's PostgreSQL v1 table layout (jsonb `value`, `isbinary`,
 * `expiredate`), with the row's `xmin` as the ETag. Bulk operations are one statement each;
 * transactions are one SQL transaction; queries are translated to parameterized SQL over jsonb.
 */
export class PostgresStateStore extends BaseStateStore {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly options: PostgresStateOptions;
  readonly tables: Tables;
  readonly #pool: pg.Pool;
  readonly #sql: Statements;
  readonly #cleanupIntervalMs: number;
  #cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    pool: pg.Pool,
    options: PostgresStateOptions,
    tables: Tables,
    cleanupIntervalMs: number,
  ) {
    super();
    this.options = options;
    this.tables = tables;
    this.capabilities = new Set<StateCapability>(
      options.actorStateStore ? [...CAPABILITIES, "ACTOR"] : CAPABILITIES,
    );
    this.#pool = pool;
    this.#sql = statements(tables);
    this.#cleanupIntervalMs = cleanupIntervalMs;
    if (cleanupIntervalMs > 0) {
      this.#cleanupTimer = setInterval(() => {
        // A failed round is retried at the next tick; the error has nowhere better to go.
        this.cleanupExpired().catch(() => {});
      }, cleanupIntervalMs);
      this.#cleanupTimer.unref();
    }
  }

  /** The underlying pool, for callers that need PostgreSQL beyond the state contract. */
  get pool(): pg.Pool {
    return this.#pool;
  }

  protected override async onPing(): Promise<void> {
    await this.#run(this.#pool, { text: "SELECT 1" });
  }

  protected override async onClose(): Promise<void> {
    if (this.#cleanupTimer) clearInterval(this.#cleanupTimer);
    await this.#pool.end().catch(() => {});
  }

  /**
   * Deletes expired rows, unless another process sharing the table did so within the cleanup
   * interval (a claim row in the metadata table decides). Returns the rows deleted, or
   * `undefined` when this round was not claimed. Reads never depend on it: they filter expired
   * rows themselves.
   */
  async cleanupExpired(intervalMs = this.#cleanupIntervalMs): Promise<number | undefined> {
    this.checkOpen();
    const claimed = await this.#run(this.#pool, {
      text: this.#sql.claimCleanup,
      values: [lastCleanupKey(this.tables), Math.max(0, Math.floor(intervalMs))],
    });
    if (claimed.rowCount === 0) return undefined;
    const deleted = await this.#run(this.#pool, { text: this.#sql.deleteExpired });
    return deleted.rowCount ?? 0;
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const result = await this.#run<Row>(this.#pool, { ...this.#sql.get, values: [request.key] });
    const row = result.rows[0];
    return row ? toGetResponse(row) : { data: null };
  }

  protected async setItem(request: SetRequest): Promise<void> {
    await this.#setOne(this.#pool, this.#prepareSet(request));
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    await this.#deleteOne(this.#pool, prepareDelete(request));
  }

  protected override async getItems(
    requests: GetRequest[],
    _options?: BulkOptions,
  ): Promise<BulkGetItem[]> {
    const keys = [...new Set(requests.map((r) => r.key))];
    const result = await this.#run<Row>(this.#pool, { ...this.#sql.bulkGet, values: [keys] });
    const byKey = new Map(result.rows.map((row) => [row.key, row]));
    return requests.map((r) => {
      const row = byKey.get(r.key);
      if (!row) return { key: r.key, data: null, error: "" };
      return toBulkGetItem(r.key, toGetResponse(row));
    });
  }

  /**
   * One statement for the whole batch (a second only for repeated keys). Items are applied on
   * their own: the ones whose ETag or first-write condition failed come back in a BulkError.
   */
  protected override async setItems(requests: SetRequest[], _options?: BulkOptions): Promise<void> {
    const failures: BulkItemError[] = [];
    const prepared: PreparedSet[] = [];
    for (const request of requests) {
      try {
        prepared.push(this.#prepareSet(request));
      } catch (error) {
        failures.push(errors.bulkItem(request.key, error));
      }
    }
    for (const round of uniqueRounds(prepared)) {
      if (round.every((i) => i.etag === null && !i.firstWrite)) {
        // Nothing can fail per item: the plain upsert, without the conditional branches.
        await this.#run(this.#pool, {
          ...this.#sql.bulkUpsert,
          values: [
            round.map((i) => i.key),
            round.map((i) => i.value),
            round.map((i) => i.isBinary),
            round.map((i) => i.ttl),
          ],
        });
        continue;
      }
      const result = await this.#run<{ key: string }>(this.#pool, {
        text: this.#sql.bulkSet,
        values: [
          round.map((i) => i.key),
          round.map((i) => i.value),
          round.map((i) => i.isBinary),
          round.map((i) => i.ttl),
          round.map((i) => i.etag),
          round.map((i) => i.firstWrite),
        ],
      });
      const written = new Set(result.rows.map((r) => r.key));
      for (const item of round) {
        if (!written.has(item.key)) {
          failures.push(errors.bulkItem(item.key, conditionFailed(item)));
        }
      }
    }
    if (failures.length > 0) throw errors.bulk(failures);
  }

  protected override async deleteItems(
    requests: DeleteRequest[],
    _options?: BulkOptions,
  ): Promise<void> {
    const failures: BulkItemError[] = [];
    const prepared: PreparedDelete[] = [];
    for (const request of requests) {
      try {
        prepared.push(prepareDelete(request));
      } catch (error) {
        failures.push(errors.bulkItem(request.key, error));
      }
    }
    for (const round of uniqueRounds(prepared)) {
      const result = await this.#run<{ key: string }>(this.#pool, {
        text: this.#sql.bulkDelete,
        values: [round.map((i) => i.key), round.map((i) => i.etag)],
      });
      const deleted = new Set(result.rows.map((r) => r.key));
      for (const item of round) {
        if (item.etag !== null && !deleted.has(item.key)) {
          failures.push(errors.bulkItem(item.key, etagMismatch()));
        }
      }
    }
    if (failures.length > 0) throw errors.bulk(failures);
  }

  /** One SQL transaction: operations run in order; the first failed condition rolls all back. */
  protected override async transactItems(request: TransactionRequest): Promise<void> {
    const operations = request.operations.map((op) => {
      if (op.operation === "upsert")
        return { kind: "set" as const, item: this.#prepareSet(op.request) };
      return { kind: "delete" as const, item: prepareDelete(op.request) };
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
      await this.#run(client, { text: "BEGIN" });
      for (const [index, op] of operations.entries()) {
        try {
          if (op.kind === "set") await this.#setOne(client, op.item);
          else await this.#deleteOne(client, op.item);
        } catch (error) {
          if (error instanceof ETagError) {
            throw errors.etag(
              error.kind,
              `transaction rolled back: operation ${index + 1} (key ${JSON.stringify(op.item.key)}): ${error.message}`,
              { cause: error },
            );
          }
          throw error;
        }
      }
      await this.#run(client, { text: "COMMIT" });
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

  protected override async queryItems(request: QueryRequest): Promise<QueryResponse> {
    const params = new Params();
    const q = buildQuery(request.query, params);
    const prefix = request.keyPrefix ? params.add(request.keyPrefix) : undefined;
    const where = prefix
      ? `(${q.where}) AND left(key, length(${prefix}::text)) = ${prefix}::text`
      : q.where;
    // One row more than asked tells whether another page exists.
    const limitParam = params.add(q.limit === undefined ? null : q.limit + 1);
    const offsetParam = params.add(q.offset);
    const result = await this.#run<Row>(this.#pool, {
      text: this.#sql.query(where, q.orderBy, limitParam, offsetParam),
      values: params.values,
    });
    const more = q.limit !== undefined && result.rows.length > q.limit;
    const rows = more ? result.rows.slice(0, q.limit) : result.rows;
    return {
      results: rows.map((row) => ({ key: row.key, data: rowData(row), etag: row.etag })),
      ...(more ? { token: String(q.offset + rows.length) } : {}),
    };
  }

  protected override async deleteItemsWithPrefix(prefix: string): Promise<{ count: number }> {
    const result = await this.#run<{ live: boolean }>(this.#pool, {
      text: this.#sql.deleteWithPrefix,
      values: [prefix],
    });
    // Expired rows are deleted too but not counted: to a reader they were already gone.
    return { count: result.rows.filter((r) => r.live).length };
  }

  /** LIKE on the key column, paged by key: the token is the last key returned. */
  protected override async keysMatching(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    const limit = request.pageSize && request.pageSize > 0 ? request.pageSize : undefined;
    const after = request.continuationToken ? decodeKeyToken(request.continuationToken) : null;
    const result = await this.#run<{ key: string }>(this.#pool, {
      text: this.#sql.keysLike,
      values: [
        literalTrailingEscape(request.pattern),
        after,
        limit === undefined ? null : limit + 1,
      ],
    });
    const keys = result.rows.map((r) => r.key);
    if (limit === undefined || keys.length <= limit) return { keys };
    const page = keys.slice(0, limit);
    return { keys: page, continuationToken: encodeKeyToken(page.at(-1) as string) };
  }

  async #setOne(db: Queryable, item: PreparedSet): Promise<void> {
    const values = [item.key, item.value, item.isBinary, item.ttl];
    const statement =
      item.etag !== null
        ? { ...this.#sql.updateIfEtag, values: [...values, item.etag] }
        : item.firstWrite
          ? { ...this.#sql.insertIfAbsent, values }
          : { ...this.#sql.upsert, values };
    const result = await this.#run(db, statement);
    if (result.rowCount === 0) throw conditionFailed(item);
  }

  async #deleteOne(db: Queryable, item: PreparedDelete): Promise<void> {
    if (item.etag === null) {
      await this.#run(db, { ...this.#sql.delete, values: [item.key] });
      return;
    }
    const result = await this.#run(db, {
      ...this.#sql.deleteIfEtag,
      values: [item.key, item.etag],
    });
    if (result.rowCount === 0) throw etagMismatch();
  }

  #prepareSet(request: SetRequest): PreparedSet {
    const ttl = parseTtlInSeconds(request.metadata);
    const raw = request.value;
    const bytes = raw instanceof Uint8Array;
    return {
      key: request.key,
      // Dapr's v1 layout: bytes as a base64 jsonb string with isbinary, a JSON value as jsonb.
      value: bytes
        ? JSON.stringify(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64"))
        : jsonText(raw),
      isBinary: bytes,
      ttl: ttl !== undefined && ttl > 0 ? ttl : null,
      etag: hasEtag(request.etag) ? checkEtag(request.etag) : null,
      firstWrite: request.options?.concurrency === "first-write",
    };
  }

  async #run<R extends pg.QueryResultRow = pg.QueryResultRow>(
    db: Queryable,
    config: pg.QueryConfig,
  ): Promise<pg.QueryResult<R>> {
    try {
      return await db.query<R>(config);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }
}

/** Dapr's v1 ETag is the row's xmin, an unsigned 32-bit integer; anything else is invalid. */
function checkEtag(etag: string): string {
  if (!/^\d{1,10}$/.test(etag) || Number(etag) > 0xffff_ffff) {
    throw errors.etag(
      "invalid",
      `invalid etag ${JSON.stringify(etag)}: expected a row version (uint32)`,
    );
  }
  return etag;
}

function prepareDelete(request: DeleteRequest): PreparedDelete {
  return { key: request.key, etag: hasEtag(request.etag) ? checkEtag(request.etag) : null };
}

function etagMismatch(): ETagError {
  return errors.etag("mismatch");
}

function conditionFailed(item: PreparedSet): ETagError {
  if (item.etag === null && item.firstWrite) {
    return errors.etag("mismatch", "first-write: the key already exists");
  }
  return etagMismatch();
}

/**
 * Splits items so that no key repeats within a group, keeping each key's occurrences in order
 * (one statement may change a row only once).
 */
function uniqueRounds<T extends { key: string }>(items: T[]): T[][] {
  const rounds: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const round = seen.get(item.key) ?? 0;
    seen.set(item.key, round + 1);
    const group = rounds[round] ?? [];
    if (group.length === 0) rounds.push(group);
    group.push(item);
  }
  return rounds;
}

function rowData(row: Row): Uint8Array {
  const bytes = row.isbinary ? Buffer.from(row.value, "base64") : Buffer.from(row.value, "utf8");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toGetResponse(row: Row): GetResponse {
  const metadata: Metadata | undefined = row.expiredate
    ? ttlExpireTimeMetadata(row.expiredate.getTime())
    : undefined;
  return {
    data: rowData(row),
    kind: row.isbinary ? "bytes" : "json",
    etag: row.etag,
    ...(metadata ? { metadata } : {}),
  };
}

/** PostgreSQL rejects a LIKE pattern ending in its escape character; the contract reads it literally. */
function literalTrailingEscape(pattern: string): string {
  let trailing = 0;
  for (let i = pattern.length - 1; i >= 0 && pattern[i] === "\\"; i--) trailing++;
  return trailing % 2 === 1 ? `${pattern}\\` : pattern;
}

function encodeKeyToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeKeyToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw errors.error("ERR_INVALID_REQUEST", "keysLike: invalid continuation token");
  }
  return Buffer.from(token, "base64url").toString("utf8");
}

export function parseCleanupInterval(text: string): number {
  const trimmed = text.trim();
  const negative = trimmed.startsWith("-");
  const ms = parseDuration(negative ? trimmed.slice(1) : trimmed, "s");
  if (ms === undefined) {
    throw errors.config([
      { field: "cleanupInterval", message: "must be a duration such as 1h or 300s, or seconds" },
    ]);
  }
  return negative ? 0 : ms;
}

/**
 * Creates `state.postgresql` from Dapr metadata: connects, creates or migrates the tables and
 * starts the periodic cleanup. Fails with ERR_CONFIG_INVALID for bad metadata and
 * ERR_UNAVAILABLE when the database cannot be reached.
 */
export async function createPostgresStateStore(
  options: PostgresStateStoreMetadata,
  context: ComponentContext = {},
): Promise<PostgresStateStore> {
  return openPostgresStateStore(stateOptions.fromOptions(options), context);
}

/** `createPostgresStateStore`'s options: the YAML metadata fields, typed; unknown ones are refused. */
export type PostgresStateStoreMetadata = OptionsInput<typeof stateOptions.fields>;

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export async function openPostgresStateStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<PostgresStateStore> {
  const options = stateOptions.parse(metadata);
  const tableName = options.tableName ?? "state";
  const metadataTableName = options.metadataTableName ?? "dapr_metadata";
  const tables: Tables = {
    state: quoteTableName(tableName, "tableName", COMPONENT),
    metadata: quoteTableName(metadataTableName, "metadataTableName", COMPONENT),
    bare: bareTableName(tableName),
  };
  const cleanupIntervalMs = parseCleanupInterval(options.cleanupInterval ?? "1h");
  const timeout = options.timeout ?? 20_000;
  const connection = connectionConfig(options.connectionString ?? "", COMPONENT);
  const pool = new pg.Pool({
    max: options.maxConns ?? 10,
    idleTimeoutMillis: options.connectionMaxIdleTime ?? 30_000,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    application_name: `outrig ${COMPONENT}${context.name ? ` ${context.name}` : ""}`,
    // Last, so what the connection string says (connect_timeout, application_name) wins.
    ...connection,
  });
  // An idle connection the server closes (restart, failover) emits here; the pool replaces it.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    try {
      await migrate(client, tables);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(error, connection, COMPONENT);
  }
  return new PostgresStateStore(pool, options, tables, cleanupIntervalMs);
}

export const stateDefinition: StateStoreDefinition = {
  type: COMPONENT,
  kind: "state",
  version: "v1",
  status: "beta",
  description:
    "PostgreSQL state store: Dapr's v1 table layout, xmin ETags, one-statement bulk operations, jsonb queries",
  capabilities: [...CAPABILITIES, "ACTOR"],
  options: stateOptions,
  create: openPostgresStateStore,
};
