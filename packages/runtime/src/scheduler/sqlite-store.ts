import type { ScheduleSpec } from "./spec.ts";
import { SqliteFile } from "./sqlite-file.ts";
import { prefixEnd, type SchedulerStore, type SettleItem, type StoredJob } from "./store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outrig_scheduler_jobs (
  key TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  generation TEXT NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outrig_scheduler_jobs_due ON outrig_scheduler_jobs (due_at);
`;

interface Row {
  key: string;
  spec: string;
  payload: Uint8Array;
  created_at: number;
  due_at: number;
  count: number;
  attempts: number;
  generation: string;
}

const COLUMNS = "key, spec, payload, created_at, due_at, count, attempts, generation";

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
 * The embedded default: one SQLite file (WAL) that every sidecar on the machine may share.
 * SQLite lets one writer in at a time, so a claim (`BEGIN IMMEDIATE`, then one UPDATE ...
 * RETURNING) is atomic across processes: two sidecars never lease the same tick.
 */
export class SqliteSchedulerStore implements SchedulerStore {
  readonly #file: SqliteFile;

  constructor(path: string) {
    this.#file = new SqliteFile(path, SCHEMA);
  }

  async put(job: StoredJob, overwrite: boolean): Promise<boolean> {
    const values = [
      job.key,
      JSON.stringify(job.spec),
      job.payload,
      job.createdAt,
      job.dueAt,
      job.count,
      job.attempts,
      job.generation,
    ] as const;
    const insert = `INSERT ${overwrite ? "OR REPLACE " : ""}INTO outrig_scheduler_jobs (${COLUMNS}, lease_owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)${overwrite ? "" : " ON CONFLICT (key) DO NOTHING"}`;
    const result = this.#file.sql(insert).run(...values);
    return Number(result.changes) > 0;
  }

  async get(key: string): Promise<StoredJob | undefined> {
    const row = this.#file
      .sql(`SELECT ${COLUMNS} FROM outrig_scheduler_jobs WHERE key = ?`)
      .get(key) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  async delete(key: string): Promise<boolean> {
    return (
      Number(this.#file.sql("DELETE FROM outrig_scheduler_jobs WHERE key = ?").run(key).changes) > 0
    );
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    return Number(
      this.#file
        .sql("DELETE FROM outrig_scheduler_jobs WHERE key >= ? AND key < ?")
        .run(prefix, prefixEnd(prefix)).changes,
    );
  }

  async list(prefix: string, limit: number): Promise<StoredJob[]> {
    const rows = this.#file
      .sql(
        `SELECT ${COLUMNS} FROM outrig_scheduler_jobs WHERE key >= ? AND key < ? ORDER BY key LIMIT ?`,
      )
      .all(prefix, prefixEnd(prefix), limit) as unknown as Row[];
    return rows.map(fromRow);
  }

  async claim(
    prefixes: readonly string[],
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<StoredJob[]> {
    const claim = this.#file.sql(
      `UPDATE outrig_scheduler_jobs SET lease_owner = ?, lease_until = ?
       WHERE key IN (SELECT key FROM outrig_scheduler_jobs
                     WHERE key >= ? AND key < ? AND due_at <= ? AND lease_until <= ?
                     ORDER BY due_at LIMIT ?)
       RETURNING ${COLUMNS}`,
    );
    return this.#file.write(() => {
      const out: StoredJob[] = [];
      for (const prefix of prefixes) {
        if (out.length >= limit) break;
        const rows = claim.all(
          owner,
          leaseUntil,
          prefix,
          prefixEnd(prefix),
          now,
          now,
          limit - out.length,
        ) as unknown as Row[];
        for (const row of rows) out.push(fromRow(row));
      }
      return out;
    });
  }

  async settle(owner: string, items: readonly SettleItem[]): Promise<void> {
    if (items.length === 0) return;
    const where = "WHERE key = ? AND generation = ? AND lease_owner = ?";
    const next = this.#file.sql(
      `UPDATE outrig_scheduler_jobs SET due_at = ?, count = ?, attempts = ?, lease_owner = NULL, lease_until = 0 ${where}`,
    );
    const done = this.#file.sql(`DELETE FROM outrig_scheduler_jobs ${where}`);
    const release = this.#file.sql(
      `UPDATE outrig_scheduler_jobs SET lease_owner = NULL, lease_until = 0 ${where}`,
    );
    this.#file.write(() => {
      for (const { key, generation, settlement: s } of items) {
        if (s.kind === "next") next.run(s.dueAt, s.count, s.attempts, key, generation, owner);
        else if (s.kind === "done") done.run(key, generation, owner);
        else release.run(key, generation, owner);
      }
    });
  }

  async release(owner: string): Promise<number> {
    const released = this.#file
      .sql(
        "UPDATE outrig_scheduler_jobs SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?",
      )
      .run(owner);
    return Number(released.changes);
  }

  async renew(owner: string, keys: readonly string[], leaseUntil: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const renew = this.#file.sql(
      `UPDATE outrig_scheduler_jobs SET lease_until = ?
       WHERE lease_owner = ? AND key IN (SELECT value FROM json_each(?)) RETURNING key`,
    );
    return this.#file.write(() =>
      (renew.all(leaseUntil, owner, JSON.stringify(keys)) as { key: string }[]).map((r) => r.key),
    );
  }

  async nextClaimable(prefixes: readonly string[]): Promise<number | undefined> {
    const query = this.#file.sql(
      `SELECT MIN(MAX(due_at, lease_until)) AS at FROM outrig_scheduler_jobs WHERE key >= ? AND key < ?`,
    );
    let earliest: number | undefined;
    for (const prefix of prefixes) {
      const row = query.get(prefix, prefixEnd(prefix)) as { at: number | null } | undefined;
      if (row?.at != null && (earliest === undefined || Number(row.at) < earliest))
        earliest = Number(row.at);
    }
    return earliest;
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}
