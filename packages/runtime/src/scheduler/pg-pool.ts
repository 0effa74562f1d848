import pg from "pg";

export interface PgPoolOptions {
  /** Connections at most. */
  max: number;
  /** A query not answered within this fails (the server may be gone). */
  queryTimeoutMs: number;
}

/**
 * A pool on a PostgreSQL database the sidecars share, its tables created once: `schema` runs
 * in one transaction under the advisory lock `schemaLock`, so sidecars starting together do not
 * race on CREATE TABLE. Rejects (and closes the pool) when the server cannot be reached.
 */
export async function openSharedPool(
  connectionString: string,
  options: PgPoolOptions,
  schema: string,
  schemaLock: number,
): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString,
    max: options.max,
    connectionTimeoutMillis: 5000,
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's network error must not crash the sidecar; the next query reports it.
  pool.on("error", () => undefined);
  const client = await pool.connect().catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [schemaLock]);
    await client.query(schema);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release();
    await pool.end();
    throw error;
  }
  client.release();
  return pool;
}
