import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  type ComponentContext,
  ComponentError,
  type LockStoreDefinition,
  type Metadata,
  type TryLockRequest,
  type TryLockResponse,
  UNLOCK_STATUS,
  type UnlockRequest,
  type UnlockResponse,
} from "@outrig/core";
import { BaseLockStore } from "@outrig/core/kit";
import { openDatabase, parseConnectionString, retryWhileBusy } from "./connection.ts";
import {
  LOCK_COMPONENT_TYPE,
  parseSqliteLockMetadata,
  type SqliteLockSettings,
  type SqliteLockStoreOptions,
  sqliteLockOptions,
} from "./lock-options.ts";

interface Statements {
  /** Takes the lock when the row is absent or expired: one statement, so one atomic write. */
  take: StatementSync;
  /** Deletes the row only when `owner` holds it unexpired. */
  release: StatementSync;
  /** The unexpired holder, to tell "not locked" from "someone else's". */
  holder: StatementSync;
  purge: StatementSync;
}

/**
 * Locks as rows of one SQLite table (resource id, owner, expiry in epoch ms). Every process that
 * opens the same file shares them, and they outlive the connection that took them. `tryLock` is a
 * single upsert whose update applies only over an expired row, so SQLite's write lock makes
 * check-and-take atomic across connections and processes.
 */
export class SqliteLockStore extends BaseLockStore {
  readonly componentType = LOCK_COMPONENT_TYPE;
  readonly #db: DatabaseSync;
  readonly #settings: SqliteLockSettings;
  readonly #sql: Statements;
  readonly #timer: NodeJS.Timeout | undefined;

  private constructor(db: DatabaseSync, settings: SqliteLockSettings) {
    super();
    this.#db = db;
    this.#settings = settings;
    const t = settings.tableName;
    this.#sql = {
      take: db.prepare(
        `INSERT INTO ${t} (resource_id, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (resource_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE ${t}.expires_at <= ?`,
      ),
      release: db.prepare(
        `DELETE FROM ${t} WHERE resource_id = ? AND owner = ? AND expires_at > ?`,
      ),
      holder: db.prepare(`SELECT owner FROM ${t} WHERE resource_id = ? AND expires_at > ?`),
      purge: db.prepare(`DELETE FROM ${t} WHERE expires_at <= ?`),
    };
    if (settings.cleanupInterval > 0) {
      this.#timer = setInterval(() => {
        this.#run(() => this.#sql.purge.run(Date.now()), "deleting expired locks").catch(
          () => undefined,
        );
      }, settings.cleanupInterval);
      this.#timer.unref();
    }
  }

  static async open(metadata: Metadata, _context: ComponentContext = {}): Promise<SqliteLockStore> {
    const settings = parseSqliteLockMetadata(metadata);
    const target = parseConnectionString(settings.connectionString);
    if (target.readOnly) {
      throw new ComponentError("ERR_CONFIG_INVALID", "a lock store cannot be read-only (mode=ro)", {
        component: LOCK_COMPONENT_TYPE,
      });
    }
    const db = openDatabase(target, {
      busyTimeoutMs: settings.busyTimeout,
      wal: !settings.disableWAL,
    });
    try {
      await retryWhileBusy(
        () =>
          db.exec(
            `CREATE TABLE IF NOT EXISTS ${settings.tableName} (
               resource_id TEXT NOT NULL PRIMARY KEY,
               owner TEXT NOT NULL,
               expires_at INTEGER NOT NULL
             ) WITHOUT ROWID`,
          ),
        settings.timeout,
        "creating the lock table",
        LOCK_COMPONENT_TYPE,
      );
      return new SqliteLockStore(db, settings);
    } catch (error) {
      db.close();
      throw error instanceof ComponentError
        ? error
        : new ComponentError(
            "ERR_UNAVAILABLE",
            `cannot prepare ${target.location}: ${(error as Error).message}`,
            { component: LOCK_COMPONENT_TYPE, cause: error },
          );
    }
  }

  protected override async onPing(): Promise<void> {
    await this.#run(() => this.#db.prepare("SELECT 1").get(), "ping");
  }

  protected override async onClose(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#db.close();
  }

  protected async acquire(request: TryLockRequest): Promise<TryLockResponse> {
    const { resourceId, lockOwner, expiryInSeconds } = request;
    return this.#run(() => {
      const now = Date.now();
      const result = this.#sql.take.run(resourceId, lockOwner, now + expiryInSeconds * 1000, now);
      return { success: Number(result.changes) === 1 };
    }, "tryLock");
  }

  protected async release(request: UnlockRequest): Promise<UnlockResponse> {
    const { resourceId, lockOwner } = request;
    return this.#run(() => {
      const now = Date.now();
      if (Number(this.#sql.release.run(resourceId, lockOwner, now).changes) === 1) {
        return { status: UNLOCK_STATUS.SUCCESS };
      }
      const holder = this.#sql.holder.get(resourceId, now);
      return {
        status: holder ? UNLOCK_STATUS.LOCK_BELONGS_TO_OTHERS : UNLOCK_STATUS.LOCK_DOES_NOT_EXIST,
      };
    }, "unlock");
  }

  async #run<T>(fn: () => T, action: string): Promise<T> {
    this.checkOpen();
    try {
      return await retryWhileBusy(fn, this.#settings.timeout, action, LOCK_COMPONENT_TYPE);
    } catch (error) {
      if (error instanceof ComponentError) throw error;
      throw this.errors.error("ERR_INTERNAL", `${action} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** Library mode: typed options named as in the YAML; an unknown option is a ConfigError. */
export async function createSqliteLockStore(
  options: SqliteLockStoreOptions,
  context?: ComponentContext,
): Promise<SqliteLockStore> {
  return SqliteLockStore.open(sqliteLockOptions.fromOptions(options), context);
}

/** The sidecar's path: Dapr metadata, unknown keys ignored. */
export function openSqliteLockStore(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<SqliteLockStore> {
  return SqliteLockStore.open(metadata, context);
}

export const lockDefinition: LockStoreDefinition = {
  type: LOCK_COMPONENT_TYPE,
  kind: "lock",
  version: "v1",
  status: "alpha",
  description:
    "Distributed locks as rows of one SQLite file, shared by every process that opens it (beyond Dapr, which has Redis only)",
  capabilities: [],
  options: sqliteLockOptions,
  create: openSqliteLockStore,
};
