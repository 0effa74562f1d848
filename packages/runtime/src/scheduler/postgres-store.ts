import type pg from "pg";
import { openSharedPool } from "./pg-pool.ts";
import type { ScheduleSpec } from "./spec.ts";
import { prefixEnd, type SchedulerStore, type SettleItem, type StoredJob } from "./store.ts";

const TABLE = "outrig_scheduler_jobs";

// Keys compare byte-wise (COLLATE "C"), so a prefix is a key range whatever the database's locale.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  key TEXT COLLATE "C" PRIMARY KEY,
  spec TEXT NOT NULL,
  payload BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  generation TEXT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ${TABLE}_due ON ${TABLE} (due_at);
`;

/** Any fixed number: serialises concurrent first starts of the schema. */
const SCHEMA_LOCK = 0x0757_1a6e;

const COLUMNS = "key, spec, payload, created_at, due_at, count, attempts, generation";

interface Row {
  key: string;
  spec: string;
  payload: Buffer;
  created_at: string;
  due_at: string;
  count: number;
  attempts: number;
  generation: string;
}

function fromRow(row: Row): StoredJob {
  return {
    key: row.key,
    spec: JSON.parse(row.spec) as ScheduleSpec,
    payload: new Uint8Array(row.payload),
    createdAt: Number(row.created_at),
    dueAt: Number(row.due_at),
    count: Number(row.count),
    attempts: Number(row.attempts),
    generation: row.generation,
  };
}

/**
 * Schedules in PostgreSQL, for sidecars on several machines. A claim is one UPDATE over a
 * `SELECT ... FOR UPDATE SKIP LOCKED`: concurrent claimers skip each other's rows, and a row
 * leased meanwhile fails the re-checked `lease_until` condition, so each tick has one owner.
 * Times are the sidecars' clocks (ms): keep them in sync (NTP) across machines.
 */
export class PostgresSchedulerStore implements SchedulerStore {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  static async open(connectionString: string): Promise<PostgresSchedulerStore> {
    const pool = await openSharedPool(
      connectionString,
      { max: 4, queryTimeoutMs: 10_000 },
      SCHEMA,
      SCHEMA_LOCK,
    );
    return new PostgresSchedulerStore(pool);
  }

  async put(job: StoredJob, overwrite: boolean): Promise<boolean> {
    const conflict = overwrite
      ? `DO UPDATE SET spec = EXCLUDED.spec, payload = EXCLUDED.payload, created_at = EXCLUDED.created_at,
           due_at = EXCLUDED.due_at, count = 0, attempts = 0, generation = EXCLUDED.generation,
           lease_owner = NULL, lease_until = 0`
      : "DO NOTHING";
    const result = await this.#pool.query(
      `INSERT INTO ${TABLE} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) ${conflict}`,
      [
        job.key,
        JSON.stringify(job.spec),
        Buffer.from(job.payload),
        job.createdAt,
        job.dueAt,
        job.count,
        job.attempts,
        job.generation,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async get(key: string): Promise<StoredJob | undefined> {
    const { rows } = await this.#pool.query<Row>(`SELECT ${COLUMNS} FROM ${TABLE} WHERE key = $1`, [
      key,
    ]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.#pool.query(`DELETE FROM ${TABLE} WHERE key = $1`, [key]);
    return (result.rowCount ?? 0) > 0;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const result = await this.#pool.query(`DELETE FROM ${TABLE} WHERE key >= $1 AND key < $2`, [
      prefix,
      prefixEnd(prefix),
    ]);
    return result.rowCount ?? 0;
  }

  async list(prefix: string, limit: number): Promise<StoredJob[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3`,
      [prefix, prefixEnd(prefix), limit],
    );
    return rows.map(fromRow);
  }

  async claim(
    prefixes: readonly string[],
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<StoredJob[]> {
    const out: StoredJob[] = [];
    for (const prefix of prefixes) {
      if (out.length >= limit) break;
      const { rows } = await this.#pool.query<Row>(
        `UPDATE ${TABLE} AS j SET lease_owner = $1, lease_until = $2
         FROM (SELECT key FROM ${TABLE}
               WHERE key >= $3 AND key < $4 AND due_at <= $5 AND lease_until <= $5
               ORDER BY due_at LIMIT $6 FOR UPDATE SKIP LOCKED) AS due
         WHERE j.key = due.key
         RETURNING ${COLUMNS.split(", ")
           .map((c) => `j.${c}`)
           .join(", ")}`,
        [owner, leaseUntil, prefix, prefixEnd(prefix), now, limit - out.length],
      );
      for (const row of rows) out.push(fromRow(row));
    }
    return out;
  }

  async settle(owner: string, items: readonly SettleItem[]): Promise<void> {
    const next = items.filter((i) => i.settlement.kind === "next");
    const done = items.filter((i) => i.settlement.kind === "done");
    const release = items.filter((i) => i.settlement.kind === "release");
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      if (next.length > 0) {
        await client.query(
          `UPDATE ${TABLE} AS t SET due_at = u.due_at, count = u.count, attempts = u.attempts,
             lease_owner = NULL, lease_until = 0
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[])
             AS u(key, generation, due_at, count, attempts)
           WHERE t.key = u.key AND t.generation = u.generation AND t.lease_owner = $6`,
          [
            next.map((i) => i.key),
            next.map((i) => i.generation),
            next.map((i) => (i.settlement as { dueAt: number }).dueAt),
            next.map((i) => (i.settlement as { count: number }).count),
            next.map((i) => (i.settlement as { attempts: number }).attempts),
            owner,
          ],
        );
      }
      if (done.length > 0) {
        await client.query(
          `DELETE FROM ${TABLE} AS t USING unnest($1::text[], $2::text[]) AS u(key, generation)
           WHERE t.key = u.key AND t.generation = u.generation AND t.lease_owner = $3`,
          [done.map((i) => i.key), done.map((i) => i.generation), owner],
        );
      }
      if (release.length > 0) {
        await client.query(
          `UPDATE ${TABLE} AS t SET lease_owner = NULL, lease_until = 0
           FROM unnest($1::text[], $2::text[]) AS u(key, generation)
           WHERE t.key = u.key AND t.generation = u.generation AND t.lease_owner = $3`,
          [release.map((i) => i.key), release.map((i) => i.generation), owner],
        );
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async release(owner: string): Promise<number> {
    const { rowCount } = await this.#pool.query(
      `UPDATE ${TABLE} SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = $1`,
      [owner],
    );
    return rowCount ?? 0;
  }

  async renew(owner: string, keys: readonly string[], leaseUntil: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.#pool.query<{ key: string }>(
      `UPDATE ${TABLE} SET lease_until = $1 WHERE lease_owner = $2 AND key = ANY($3::text[])
       RETURNING key`,
      [leaseUntil, owner, keys],
    );
    return rows.map((r) => r.key);
  }

  async nextClaimable(prefixes: readonly string[]): Promise<number | undefined> {
    let earliest: number | undefined;
    for (const prefix of prefixes) {
      const { rows } = await this.#pool.query<{ at: string | null }>(
        `SELECT MIN(GREATEST(due_at, lease_until)) AS at FROM ${TABLE} WHERE key >= $1 AND key < $2`,
        [prefix, prefixEnd(prefix)],
      );
      const at = rows[0]?.at;
      if (at != null && (earliest === undefined || Number(at) < earliest)) earliest = Number(at);
    }
    return earliest;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
