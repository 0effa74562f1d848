import type { PoolClient } from "pg";

/** Quoted names of the tables and objects one store uses. */
export interface Tables {
  /** Quoted, possibly schema-qualified state table. */
  state: string;
  /** Quoted, possibly schema-qualified metadata table. */
  metadata: string;
  /** The state table's bare name, used in metadata keys and index names. */
  bare: string;
}

/**
 * Schema migrations, applied in order; the level reached is kept in the metadata table under
 * `migrations-<table>`. The state table is Dapr's PostgreSQL v1 layout (jsonb `value`,
 * `isbinary`, `expiredate`), so a table Dapr created is used as it is; every step is written to
 * be a no-op on such a table.
 */
export function migrations(t: Tables): string[][] {
  return [
    [
      `CREATE TABLE IF NOT EXISTS ${t.state} (
        key text NOT NULL PRIMARY KEY,
        value jsonb NOT NULL,
        isbinary boolean NOT NULL,
        insertdate timestamp with time zone NOT NULL DEFAULT now(),
        updatedate timestamp with time zone NULL
      )`,
    ],
    [
      `ALTER TABLE ${t.state} ADD COLUMN IF NOT EXISTS expiredate timestamp with time zone NULL`,
      // The cleanup scans only rows that have an expiry.
      `CREATE INDEX IF NOT EXISTS "${`${t.bare}_expiredate_idx`.slice(0, 63)}" ON ${t.state} (expiredate) WHERE expiredate IS NOT NULL`,
    ],
  ];
}

export function migrationKey(t: Tables): string {
  return `migrations-${t.bare}`;
}

export function lastCleanupKey(t: Tables): string {
  return `last-cleanup-${t.bare}`;
}

/**
 * Brings the tables to the latest migration. Runs in one transaction under an advisory lock on
 * the metadata table's name, so processes starting together migrate once and in turn.
 */
export async function migrate(client: PoolClient, t: Tables): Promise<number> {
  const steps = migrations(t);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `outrig-migrate:${t.metadata}`,
    ]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t.metadata} (key text NOT NULL PRIMARY KEY, value text NOT NULL)`,
    );
    const current = await client.query<{ value: string }>(
      `SELECT value FROM ${t.metadata} WHERE key = $1`,
      [migrationKey(t)],
    );
    const level = current.rows[0] ? Number.parseInt(current.rows[0].value, 10) || 0 : 0;
    for (let i = level; i < steps.length; i++) {
      for (const statement of steps[i] as string[]) await client.query(statement);
    }
    if (level < steps.length) {
      await client.query(
        `INSERT INTO ${t.metadata} (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
        [migrationKey(t), String(steps.length)],
      );
    }
    await client.query("COMMIT");
    return steps.length;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
