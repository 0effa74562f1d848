import type { DatabaseSync } from "node:sqlite";

/** The schema version this package writes, kept in the metadata table under `migrations`. */
export const SCHEMA_VERSION = 1;

/**
 * Creates the tables when missing. The state table has the columns of Dapr's SQLite component
 * (`key`, `value` as text, `is_binary`, `etag`, `expiration_time`, `update_time`), so a database
 * file written by daprd can be opened here and the other way round. Runs inside the caller's
 * write transaction, so processes starting together cannot race on it.
 */
export function migrate(db: DatabaseSync, table: string, metadataTable: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${metadataTable} (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
  )`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL,
    etag TEXT NOT NULL,
    expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP DEFAULT NULL
  )`);
  // The cleanup deletes by expiry; without an index it scans the whole table every interval. A
  // partial index costs nothing on writes without a TTL, which are most of them.
  db.exec(
    `CREATE INDEX IF NOT EXISTS ${table}_expiration_time_idx ON ${table} (expiration_time) WHERE expiration_time IS NOT NULL`,
  );
  db.prepare(`INSERT INTO ${metadataTable} (key, value) VALUES ('migrations', ?)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < ?`).run(
    String(SCHEMA_VERSION),
    SCHEMA_VERSION,
  );
}
