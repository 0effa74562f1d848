// Throughput of the component against raw node:sqlite statements doing the same SQL on the same
// kind of file, in one process, as ops/s and a ratio (component / raw). Run with
// `pnpm --filter @outrig/sqlite bench` (optional args: operations per case, rounds; default 2000, 5).
// Each side's figure is its median over the rounds; raw and component alternate within a round.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { alternate, median, opsPerSecond } from "@outrig/tools/bench";
import { createSqliteStateStore } from "../src/index.ts";

const ops = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), "outrig-sqlite-bench-"));
const value = { message: "hello", n: 42, tags: ["a", "b"] };

function rawDb(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec("PRAGMA busy_timeout = 2000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`CREATE TABLE IF NOT EXISTS state (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL,
    is_binary BOOLEAN NOT NULL, etag TEXT NOT NULL, expiration_time TIMESTAMP DEFAULT NULL,
    update_time TIMESTAMP DEFAULT NULL)`);
  return db;
}

interface Case {
  name: string;
  raw: (db: DatabaseSync) => () => void;
  component: (store: Awaited<ReturnType<typeof createSqliteStateStore>>) => () => Promise<void>;
}

const cases: Case[] = [
  {
    name: "set (one write transaction each)",
    raw: (db) => {
      const upsert =
        db.prepare(`INSERT INTO state (key, value, is_binary, etag, update_time) VALUES (?, ?, 0, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, update_time = excluded.update_time`);
      return () => {
        for (let i = 0; i < ops; i++) {
          db.exec("BEGIN IMMEDIATE");
          upsert.run(`k${i}`, JSON.stringify(value), randomUUID(), new Date().toISOString());
          db.exec("COMMIT");
        }
      };
    },
    component: (store) => async () => {
      for (let i = 0; i < ops; i++) await store.set({ key: `k${i}`, value });
    },
  },
  {
    name: "get",
    raw: (db) => {
      const get = db.prepare(
        "SELECT value, is_binary, etag, expiration_time FROM state WHERE key = ? AND (expiration_time IS NULL OR expiration_time > ?)",
      );
      return () => {
        for (let i = 0; i < ops; i++) {
          const row = get.get(`k${i}`, new Date().toISOString()) as { value: string };
          new TextEncoder().encode(row.value);
        }
      };
    },
    component: (store) => async () => {
      for (let i = 0; i < ops; i++) await store.get({ key: `k${i}` });
    },
  },
  {
    name: "bulkSet of 100 (one transaction)",
    raw: (db) => {
      const upsert =
        db.prepare(`INSERT INTO state (key, value, is_binary, etag, update_time) VALUES (?, ?, 0, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, update_time = excluded.update_time`);
      return () => {
        for (let i = 0; i < ops; i += 100) {
          db.exec("BEGIN IMMEDIATE");
          for (let j = i; j < i + 100; j++)
            upsert.run(`k${j}`, JSON.stringify(value), randomUUID(), new Date().toISOString());
          db.exec("COMMIT");
        }
      };
    },
    component: (store) => async () => {
      for (let i = 0; i < ops; i += 100) {
        await store.bulkSet(Array.from({ length: 100 }, (_, j) => ({ key: `k${i + j}`, value })));
      }
    },
  },
];

console.log(`node ${process.version}, ${ops} operations per case, median of ${rounds} rounds`);
try {
  for (const c of cases) {
    let round = 0;
    const runs = await alternate(rounds, {
      raw: async () => {
        const db = rawDb(join(dir, `raw-${round}-${c.name.length}.db`));
        const prepareRaw = c.raw(db);
        // Gets need the rows: the set case fills them first in both variants.
        if (c.name === "get") cases[0]?.raw(db)();
        const rate = await opsPerSecond(ops, prepareRaw);
        db.close();
        return rate;
      },
      component: async () => {
        const store = await createSqliteStateStore({
          connectionString: join(dir, `component-${round++}-${c.name.length}.db`),
          cleanupInterval: "0",
        });
        if (c.name === "get") await cases[0]?.component(store)();
        const rate = await opsPerSecond(ops, c.component(store));
        await store.close();
        return rate;
      },
    });
    const raw = median(runs.raw);
    const component = median(runs.component);
    console.log(
      `${c.name.padEnd(34)} raw ${raw.toFixed(0).padStart(8)} ops/s   component ${component
        .toFixed(0)
        .padStart(8)} ops/s   ratio ${(component / raw).toFixed(2)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
