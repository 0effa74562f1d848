import {
  type ComponentContext,
  type LockStoreDefinition,
  type Metadata,
  type OptionsInput,
  type TryLockRequest,
  type TryLockResponse,
  UNLOCK_STATUS,
  type UnlockRequest,
  type UnlockResponse,
} from "@outrig/core";
import { BaseLockStore } from "@outrig/core/kit";
import pg from "pg";
import { connectionConfig } from "./connection-string.ts";
import { connectError, toComponentError } from "./errors.ts";
import { quoteTableName } from "./identifiers.ts";
import { lockOptions } from "./options.ts";
import { parseCleanupInterval } from "./state.ts";

const COMPONENT = "lock.postgresql";

interface LockStatements {
  take: string;
  release: string;
  holder: string;
  purge: string;
}

function lockStatements(table: string): LockStatements {
  return {
    // One statement: it inserts a free lock, or takes over an expired one; a live row is left
    // alone (the WHERE of DO UPDATE), so concurrent contenders serialise on the row and one wins.
    take: `INSERT INTO ${table} (resource_id, owner, expires_at)
           VALUES ($1, $2, now() + make_interval(secs => $3::double precision))
           ON CONFLICT (resource_id) DO UPDATE
             SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
             WHERE ${table}.expires_at <= now()`,
    release: `DELETE FROM ${table} WHERE resource_id = $1 AND owner = $2 AND expires_at > now()`,
    holder: `SELECT 1 FROM ${table} WHERE resource_id = $1 AND expires_at > now()`,
    purge: `DELETE FROM ${table} WHERE expires_at <= now()`,
  };
}

/**
 * Locks as rows of one PostgreSQL table (resource id, owner, expiry by the server's clock), so
 * every client of the database shares them and they outlive the connection that took them.
 */
export class PostgresLockStore extends BaseLockStore {
  readonly componentType = COMPONENT;
  readonly #pool: pg.Pool;
  readonly #sql: LockStatements;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(pool: pg.Pool, table: string, cleanupIntervalMs: number) {
    super();
    this.#pool = pool;
    this.#sql = lockStatements(table);
    if (cleanupIntervalMs > 0) {
      this.#timer = setInterval(() => {
        this.#query(this.#sql.purge, []).catch(() => undefined);
      }, cleanupIntervalMs);
      this.#timer.unref();
    }
  }

  protected override async onPing(): Promise<void> {
    await this.#query("SELECT 1", []);
  }

  protected override async onClose(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#pool.end().catch(() => {});
  }

  protected async acquire(request: TryLockRequest): Promise<TryLockResponse> {
    const result = await this.#query(this.#sql.take, [
      request.resourceId,
      request.lockOwner,
      request.expiryInSeconds,
    ]);
    return { success: result.rowCount === 1 };
  }

  protected async release(request: UnlockRequest): Promise<UnlockResponse> {
    const deleted = await this.#query(this.#sql.release, [request.resourceId, request.lockOwner]);
    if (deleted.rowCount === 1) return { status: UNLOCK_STATUS.SUCCESS };
    const holder = await this.#query(this.#sql.holder, [request.resourceId]);
    return {
      status:
        (holder.rowCount ?? 0) > 0
          ? UNLOCK_STATUS.LOCK_BELONGS_TO_OTHERS
          : UNLOCK_STATUS.LOCK_DOES_NOT_EXIST,
    };
  }

  async #query(text: string, values: unknown[]): Promise<pg.QueryResult> {
    this.checkOpen();
    try {
      return await this.#pool.query(text, values);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }
}

/** The sidecar's path (the manifest's factory): Dapr metadata, unknown keys ignored. */
export async function openPostgresLockStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<PostgresLockStore> {
  const options = lockOptions.parse(metadata);
  const table = quoteTableName(options.tableName ?? "dapr_locks", "tableName", COMPONENT);
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
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         resource_id TEXT NOT NULL PRIMARY KEY,
         owner TEXT NOT NULL,
         expires_at TIMESTAMPTZ NOT NULL
       )`,
    );
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectError(error, connection, COMPONENT);
  }
  return new PostgresLockStore(pool, table, cleanupIntervalMs);
}

/** `createPostgresLockStore`'s options: the YAML metadata fields, typed; unknown ones are refused. */
export type PostgresLockStoreMetadata = OptionsInput<typeof lockOptions.fields>;

/** Library mode: typed options named as in the YAML. */
export async function createPostgresLockStore(
  options: PostgresLockStoreMetadata,
  context: ComponentContext = {},
): Promise<PostgresLockStore> {
  return openPostgresLockStore(lockOptions.fromOptions(options), context);
}

export const lockDefinition: LockStoreDefinition = {
  type: COMPONENT,
  kind: "lock",
  version: "v1",
  status: "alpha",
  description:
    "Distributed locks as rows of a PostgreSQL table, taken by one atomic upsert-if-expired (beyond Dapr, which has Redis only)",
  capabilities: [],
  options: lockOptions,
  create: openPostgresLockStore,
};
