import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

/**
 * A SQLite file that several sidecar processes write: WAL, a 5 s busy timeout, and write
 * transactions taken with `BEGIN IMMEDIATE`, so one writer at a time across processes and a
 * read-then-write inside `write` is one atomic step. The scheduler's jobs and the actor
 * membership share such a file.
 */
export class SqliteFile {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  /** Opens (creating its folder) `path`, or `:memory:` for one process, and applies `schema`. */
  constructor(path: string, schema: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec("PRAGMA busy_timeout = 5000");
    if (path !== ":memory:") this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec(schema);
  }

  /** The prepared statement for `text`, prepared once. */
  sql(text: string): StatementSync {
    let s = this.#statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.#statements.set(text, s);
    }
    return s;
  }

  /** Runs `fn` in a write transaction: committed when it returns, rolled back when it throws. */
  write<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
