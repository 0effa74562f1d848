import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import {
  type BulkGetItem,
  type BulkOptions,
  type ComponentContext,
  ComponentError,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  hasEtag,
  type KeysLikeRequest,
  type KeysLikeResponse,
  type Logger,
  type Metadata,
  parseFilter,
  parseTtlInSeconds,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  silentLogger,
  type TransactionRequest,
  throwBulkFailures,
  ttlExpireTimeMetadata,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import {
  type DatabaseTarget,
  openDatabase,
  parseConnectionString,
  retryWhileBusy,
} from "./connection.ts";
import { likeToGlob } from "./like-glob.ts";
import {
  COMPONENT_TYPE,
  parseSqliteMetadata,
  type SqliteSettings,
  type SqliteStateStoreOptions,
  sqliteOptions,
} from "./options.ts";
import { filterToSql, sortToSql } from "./query-sql.ts";
import { fromStored, fromTimestamp, toStored, toTimestamp } from "./rows.ts";
import { migrate } from "./schema.ts";

const CAPABILITIES: readonly StateCapability[] = [
  "ETAG",
  "TRANSACTIONAL",
  "QUERY_API",
  "TTL",
  "DELETE_WITH_PREFIX",
  "KEYS_LIKE",
];

/** SQLite's default limit on bound parameters is 32766; stay far below it per statement. */
const MAX_KEYS_PER_SELECT = 500;

interface Row {
  key: string;
  value: string;
  is_binary: unknown;
  etag: string;
  expiration_time: string | null;
}

/** A validated write: everything that can be rejected is rejected before the lock is taken. */
interface PreparedSet {
  kind: "set";
  key: string;
  stored: { value: string; isBinary: 0 | 1 };
  etag: string | undefined;
  firstWrite: boolean;
  ttlSeconds: number | undefined;
}

interface PreparedDelete {
  kind: "delete";
  key: string;
  etag: string | undefined;
}

type PreparedWrite = PreparedSet | PreparedDelete;

interface Statements {
  get: StatementSync;
  upsert: StatementSync;
  insertIfAbsent: StatementSync;
  updateIfEtag: StatementSync;
  delete: StatementSync;
  deleteIfEtag: StatementSync;
  deleteWithPrefix: StatementSync;
  deleteExpired: StatementSync;
  claimCleanup: StatementSync;
}

function prepareStatements(db: DatabaseSync, t: string, meta: string): Statements {
  const live = "(expiration_time IS NULL OR expiration_time > :now)";
  const columns = "(key, value, is_binary, etag, expiration_time, update_time)";
  const values = "(:key, :value, :isBinary, :etag, :exp, :now)";
  const replace =
    "value = excluded.value, is_binary = excluded.is_binary, etag = excluded.etag, " +
    "expiration_time = excluded.expiration_time, update_time = excluded.update_time";
  return {
    get: db.prepare(
      `SELECT key, value, is_binary, etag, expiration_time FROM ${t} WHERE key = :key AND ${live}`,
    ),
    upsert: db.prepare(
      `INSERT INTO ${t} ${columns} VALUES ${values} ON CONFLICT (key) DO UPDATE SET ${replace}`,
    ),
    // First-write is a real insert-if-absent: an existing row is only replaced once it has expired.
    insertIfAbsent: db.prepare(
      `INSERT INTO ${t} ${columns} VALUES ${values} ON CONFLICT (key) DO UPDATE SET ${replace}
       WHERE ${t}.expiration_time IS NOT NULL AND ${t}.expiration_time <= :now`,
    ),
    updateIfEtag: db.prepare(
      `UPDATE ${t} SET value = :value, is_binary = :isBinary, etag = :etag, expiration_time = :exp,
       update_time = :now WHERE key = :key AND etag = :match AND ${live}`,
    ),
    delete: db.prepare(`DELETE FROM ${t} WHERE key = :key`),
    deleteIfEtag: db.prepare(`DELETE FROM ${t} WHERE key = :key AND etag = :match AND ${live}`),
    deleteWithPrefix: db.prepare(
      `DELETE FROM ${t} WHERE substr(key, 1, :len) = :prefix AND instr(substr(key, :len + 1), '||') = 0 AND ${live}`,
    ),
    deleteExpired: db.prepare(
      `DELETE FROM ${t} WHERE expiration_time IS NOT NULL AND expiration_time <= :now`,
    ),
    // Several processes may share the file: whoever moves `last-cleanup` forward does the work.
    claimCleanup: db.prepare(
      `INSERT INTO ${meta} (key, value) VALUES ('last-cleanup', :now)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value <= :due`,
    ),
  };
}

const errors = componentErrors(COMPONENT_TYPE);
const invalidRequest = errors.invalid;

/** Keeps component errors as they are and wraps SQLite's, keeping the original as the cause. */
function wrapError(error: unknown, action: string): ComponentError {
  if (error instanceof ComponentError) return error;
  return errors.error(
    "ERR_INTERNAL",
    `${action} failed: ${(error as Error)?.message ?? String(error)}`,
    {
      cause: error,
    },
  );
}

function encodeToken(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

function decodeToken(token: string, what: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw invalidRequest(`${what}: invalid continuation token`);
  return Buffer.from(token, "base64url").toString("utf8");
}

function ttlMetadata(expirationTime: string | null): Metadata | undefined {
  return expirationTime === null ? undefined : ttlExpireTimeMetadata(fromTimestamp(expirationTime));
}

function prepareSet(request: SetRequest): PreparedSet {
  return {
    kind: "set",
    key: request.key,
    stored: toStored(request.value),
    etag: hasEtag(request.etag) ? request.etag : undefined,
    firstWrite: request.options?.concurrency === "first-write",
    ttlSeconds: parseTtlInSeconds(request.metadata),
  };
}

function prepareDelete(request: DeleteRequest): PreparedDelete {
  return {
    kind: "delete",
    key: request.key,
    etag: hasEtag(request.etag) ? request.etag : undefined,
  };
}

/**
 * `state.sqlite`: every state capability on one SQLite file through Node's built-in `node:sqlite`.
 * The driver is synchronous, so each operation runs to completion without yielding; only the wait
 * for another process's lock is asynchronous (short blocking busy waits, then a retry after a
 * yield), so the event loop is never held for longer than `busyTimeout`.
 */
export class SqliteStateStore extends BaseStateStore {
  readonly componentType = COMPONENT_TYPE;
  readonly capabilities: ReadonlySet<StateCapability>;
  /** Where the data lives: an absolute file path or `:memory:`. */
  readonly location: string;

  readonly #db: DatabaseSync;
  readonly #settings: SqliteSettings;
  readonly #stmts: Statements;
  readonly #logger: Logger;
  readonly #readOnly: boolean;
  #timer: NodeJS.Timeout | undefined;
  /** Writes of this store run one at a time, so a transaction never spans another's await. */
  #writeChain: Promise<unknown> = Promise.resolve();

  private constructor(
    db: DatabaseSync,
    target: DatabaseTarget,
    settings: SqliteSettings,
    logger: Logger,
  ) {
    super();
    this.#db = db;
    this.location = target.location;
    this.#readOnly = target.readOnly;
    this.#settings = settings;
    this.#logger = logger;
    this.capabilities = new Set<StateCapability>(
      settings.actorStateStore ? [...CAPABILITIES, "ACTOR"] : CAPABILITIES,
    );
    this.#stmts = prepareStatements(db, settings.tableName, settings.metadataTableName);
  }

  /** Opens (and if needed creates) the database from Dapr metadata. */
  static async open(metadata: Metadata, context: ComponentContext = {}): Promise<SqliteStateStore> {
    const settings = parseSqliteMetadata(metadata);
    const target = parseConnectionString(settings.connectionString);
    const db = openDatabase(target, {
      busyTimeoutMs: settings.busyTimeout,
      wal: !settings.disableWAL,
    });
    const logger = context.logger ?? silentLogger;
    try {
      if (!target.readOnly) {
        await retryBusy(
          () => {
            db.exec("BEGIN IMMEDIATE");
            try {
              migrate(db, settings.tableName, settings.metadataTableName);
              db.exec("COMMIT");
            } catch (error) {
              db.exec("ROLLBACK");
              throw error;
            }
          },
          settings.timeout,
          "creating the tables",
        );
      }
      const store = new SqliteStateStore(db, target, settings, logger);
      store.#startCleanup();
      return store;
    } catch (error) {
      db.close();
      throw error instanceof ComponentError
        ? error
        : errors.error(
            "ERR_UNAVAILABLE",
            `cannot prepare ${target.location}: ${(error as Error).message}`,
            { cause: error },
          );
    }
  }

  protected override async onPing(): Promise<void> {
    await this.#read(() => this.#db.prepare("SELECT 1").get(), "ping");
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const { key } = request;
    const row = await this.#read(
      (now) => this.#stmts.get.get({ key, now }) as Row | undefined,
      "get",
    );
    if (!row) return { data: null };
    const metadata = ttlMetadata(row.expiration_time);
    return {
      ...fromStored(row.value, row.is_binary),
      etag: row.etag,
      ...(metadata ? { metadata } : {}),
    };
  }

  protected async setItem(request: SetRequest): Promise<void> {
    const write = prepareSet(request);
    await this.#write((now) => this.#apply(write, now), "set");
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    const write = prepareDelete(request);
    await this.#write((now) => this.#apply(write, now), "delete");
  }

  protected override async getItems(
    requests: GetRequest[],
    _options?: BulkOptions,
  ): Promise<BulkGetItem[]> {
    const unique = [...new Set(requests.map((r) => r.key))];
    const found = await this.#read((now) => {
      const rows = new Map<string, Row>();
      for (let i = 0; i < unique.length; i += MAX_KEYS_PER_SELECT) {
        const chunk = unique.slice(i, i + MAX_KEYS_PER_SELECT);
        const sql =
          `SELECT key, value, is_binary, etag, expiration_time FROM ${this.#settings.tableName} ` +
          `WHERE key IN (${chunk.map(() => "?").join(", ")}) AND (expiration_time IS NULL OR expiration_time > ?)`;
        for (const row of this.#db.prepare(sql).all(...chunk, now) as unknown as Row[])
          rows.set(row.key, row);
      }
      return rows;
    }, "bulkGet");
    return requests.map(({ key }) => {
      const row = found.get(key);
      if (!row) return { key, data: null, error: "" };
      const metadata = ttlMetadata(row.expiration_time);
      return {
        key,
        ...fromStored(row.value, row.is_binary),
        etag: row.etag,
        ...(metadata ? { metadata } : {}),
        error: "",
      };
    });
  }

  protected override async setItems(requests: SetRequest[], _options?: BulkOptions): Promise<void> {
    await this.#bulkWrite(requests, prepareSet, "bulkSet");
  }

  protected override async deleteItems(
    requests: DeleteRequest[],
    _options?: BulkOptions,
  ): Promise<void> {
    await this.#bulkWrite(requests, prepareDelete, "bulkDelete");
  }

  protected override async transactItems(request: TransactionRequest): Promise<void> {
    const writes = request.operations.map((op) =>
      op.operation === "upsert" ? prepareSet(op.request) : prepareDelete(op.request),
    );
    if (writes.length === 0) return;
    // One write transaction: the first failure rolls back everything before it.
    await this.#write((now) => {
      for (const w of writes) this.#apply(w, now);
    }, "transaction");
  }

  protected override async queryItems(request: QueryRequest): Promise<QueryResponse> {
    const query = request.query ?? {};
    const filter = filterToSql(parseFilter(query.filter));
    const sort = sortToSql(query.sort);
    const limit = query.page?.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0)
      throw invalidRequest("invalid query: page.limit must be a non-negative integer");
    const token = query.page?.token;
    const { keyPrefix } = request;
    let offset = 0;
    if (token !== undefined && token !== "") {
      if (!/^\d+$/.test(token))
        throw invalidRequest("invalid query: page.token is not a token this store issued");
      offset = Number(token);
    }
    const sql =
      `SELECT key, value, is_binary, etag FROM ${this.#settings.tableName} ` +
      `WHERE (expiration_time IS NULL OR expiration_time > ?) AND is_binary = 0 AND json_valid(value) AND ${filter.sql} ` +
      // substr and length both count characters, so this is an exact (case-sensitive) prefix.
      (keyPrefix ? "AND substr(key, 1, length(?)) = ? " : "") +
      `ORDER BY ${sort.sql} LIMIT ? OFFSET ?`;
    const rows = await this.#read((now) => {
      const params: SQLInputValue[] = [
        now,
        ...filter.params,
        ...(keyPrefix ? [keyPrefix, keyPrefix] : []),
        ...sort.params,
        limit > 0 ? limit + 1 : -1,
        offset,
      ];
      return this.#db.prepare(sql).all(...params) as unknown as Row[];
    }, "query");
    const more = limit > 0 && rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return {
      results: page.map((row) => ({
        key: row.key,
        data: fromStored(row.value, row.is_binary).data,
        etag: row.etag,
      })),
      ...(more ? { token: String(offset + limit) } : {}),
    };
  }

  protected override async deleteItemsWithPrefix(prefix: string): Promise<{ count: number }> {
    const count = await this.#write(
      (now) =>
        Number(this.#stmts.deleteWithPrefix.run({ prefix, len: prefix.length, now }).changes),
      "deleteWithPrefix",
    );
    return { count };
  }

  protected override async keysMatching(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    const pageSize = request.pageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0)
      throw invalidRequest("keysLike: pageSize must be a non-negative integer");
    const after =
      request.continuationToken === undefined || request.continuationToken === ""
        ? undefined
        : decodeToken(request.continuationToken, "keysLike");
    const sql =
      `SELECT key FROM ${this.#settings.tableName} WHERE key GLOB ? ` +
      `AND (expiration_time IS NULL OR expiration_time > ?)${after === undefined ? "" : " AND key > ?"} ` +
      "ORDER BY key LIMIT ?";
    const glob = likeToGlob(request.pattern);
    const keys = await this.#read((now) => {
      const params: SQLInputValue[] = [glob, now];
      if (after !== undefined) params.push(after);
      params.push(pageSize > 0 ? pageSize + 1 : -1);
      return (this.#db.prepare(sql).all(...params) as { key: string }[]).map((r) => r.key);
    }, "keysLike");
    if (pageSize > 0 && keys.length > pageSize) {
      const page = keys.slice(0, pageSize);
      return { keys: page, continuationToken: encodeToken(page[page.length - 1] as string) };
    }
    return { keys };
  }

  /**
   * Deletes expired rows now and returns how many went. Reads already hide them; this only
   * reclaims space. The periodic cleanup calls it when `cleanupInterval` has passed.
   */
  async cleanupExpired(): Promise<number> {
    return this.#write((now) => Number(this.#stmts.deleteExpired.run({ now }).changes), "cleanup");
  }

  protected override async onClose(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#writeChain.catch(() => undefined);
    this.#db.close();
  }

  #startCleanup(): void {
    const interval = this.#settings.cleanupInterval;
    if (interval <= 0 || this.#readOnly) return;
    this.#timer = setInterval(() => {
      this.#cleanupIfDue(interval).then(
        (count) => {
          if (count > 0)
            this.#logger.debug("deleted expired state rows", { component: COMPONENT_TYPE, count });
        },
        (error: unknown) => {
          if (!this.closed) {
            this.#logger.warn("cleanup of expired state rows failed", {
              component: COMPONENT_TYPE,
              error: (error as Error).message,
            });
          }
        },
      );
    }, interval);
    this.#timer.unref();
  }

  #cleanupIfDue(interval: number): Promise<number> {
    return this.#write((now) => {
      // Slack of 5%: processes sharing the file tick at slightly different times.
      const due = toTimestamp(Date.now() - interval * 0.95);
      if (this.#stmts.claimCleanup.run({ now, due }).changes === 0) return 0;
      return Number(this.#stmts.deleteExpired.run({ now }).changes);
    }, "cleanup");
  }

  /** Applies one validated write inside the open transaction; throws ETagError on a conflict. */
  #apply(write: PreparedWrite, now: string): void {
    if (write.kind === "delete") {
      if (write.etag === undefined) {
        this.#stmts.delete.run({ key: write.key });
      } else if (
        this.#stmts.deleteIfEtag.run({ key: write.key, match: write.etag, now }).changes === 0
      ) {
        throw errors.etag("mismatch");
      }
      return;
    }
    const exp =
      write.ttlSeconds === undefined || write.ttlSeconds < 0
        ? null
        : toTimestamp(fromTimestamp(now) + write.ttlSeconds * 1000);
    const row = {
      key: write.key,
      value: write.stored.value,
      isBinary: write.stored.isBinary,
      etag: randomUUID(),
      exp,
      now,
    };
    if (write.etag !== undefined) {
      if (this.#stmts.updateIfEtag.run({ ...row, match: write.etag }).changes === 0) {
        throw errors.etag("mismatch");
      }
    } else if (write.firstWrite) {
      if (this.#stmts.insertIfAbsent.run(row).changes === 0) {
        throw errors.etag("mismatch", "first-write: the key already exists");
      }
    } else {
      this.#stmts.upsert.run(row);
    }
  }

  /** Non-atomic bulk writes: one lock for all items, but each item succeeds or fails on its own. */
  async #bulkWrite<R extends { key: string }>(
    requests: R[],
    prepare: (r: R) => PreparedWrite,
    action: string,
  ): Promise<void> {
    const results: PromiseSettledResult<void>[] = new Array(requests.length);
    const valid: { index: number; write: PreparedWrite }[] = [];
    requests.forEach((r, index) => {
      try {
        valid.push({ index, write: prepare(r) });
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    });
    if (valid.length > 0) {
      await this.#write((now) => {
        for (const { index, write } of valid) {
          try {
            this.#apply(write, now);
            results[index] = { status: "fulfilled", value: undefined };
          } catch (reason) {
            // A failed statement undoes only itself; the transaction and the other items go on.
            results[index] = { status: "rejected", reason: wrapError(reason, action) };
          }
        }
      }, action);
    }
    throwBulkFailures(
      requests.map((r) => r.key),
      results,
      COMPONENT_TYPE,
    );
  }

  /** Runs `fn` inside BEGIN IMMEDIATE, retrying the lock until `timeout`, after earlier writes. */
  #write<T>(fn: (now: string) => T, action: string): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const run = async (): Promise<T> => {
      if (this.closed) throw this.closedError();
      const deadline = Date.now() + this.#settings.timeout;
      await retryBusy(() => this.#db.exec("BEGIN IMMEDIATE"), this.#settings.timeout, action);
      try {
        const result = fn(toTimestamp(Date.now()));
        await retryBusy(() => this.#db.exec("COMMIT"), Math.max(0, deadline - Date.now()), action);
        return result;
      } catch (error) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // SQLite already rolled back (e.g. after a disk error); nothing is left to undo.
        }
        throw wrapError(error, action);
      }
    };
    const result = this.#writeChain.then(run, run);
    this.#writeChain = result.catch(() => undefined);
    return result;
  }

  async #read<T>(fn: (now: string) => T, action: string): Promise<T> {
    if (this.closed) throw this.closedError();
    try {
      return await retryBusy(() => fn(toTimestamp(Date.now())), this.#settings.timeout, action);
    } catch (error) {
      throw wrapError(error, action);
    }
  }
}

function retryBusy<T>(fn: () => T, timeoutMs: number, action: string): Promise<T> {
  return retryWhileBusy(fn, timeoutMs, action, COMPONENT_TYPE);
}

/**
 * Library mode: a `state.sqlite` store from typed options named as in the YAML
 * (`{ connectionString: "data.db" }`); an unknown option is a ConfigError.
 */
export async function createSqliteStateStore(
  options: SqliteStateStoreOptions,
  context?: ComponentContext,
): Promise<SqliteStateStore> {
  return SqliteStateStore.open(sqliteOptions.fromOptions(options), context);
}

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export function openSqliteStateStore(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<SqliteStateStore> {
  return SqliteStateStore.open(metadata, context);
}
