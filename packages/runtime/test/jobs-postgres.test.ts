// The scheduler on a real PostgreSQL (through @outrig/conformance/services): three sidecars of
// one app share the store and each tick fires on exactly one of them; concurrent claimers of
// the store itself never lease one tick twice, and an owner's release frees only its own leases
// (SQLite alike).
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@outrig/conformance/services";
import { afterAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { PostgresSchedulerStore } from "../src/scheduler/postgres-store.ts";
import { SqliteSchedulerStore } from "../src/scheduler/sqlite-store.ts";
import type { SchedulerStore } from "../src/scheduler/store.ts";
import { fakeApp, sidecar, until } from "./helpers.ts";

const postgres = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), "outrig-jobs-pg-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await postgres.stop();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("three sidecars of one app on one PostgreSQL store", () => {
  it("fire each tick on exactly one of them", async () => {
    const appId = `jobs-pg-${randomUUID().slice(0, 8)}`;
    const arrivals: { url: string; app: number }[] = [];
    const apps = await Promise.all(
      [0, 1, 2].map((i) =>
        fakeApp((r, res: ServerResponse) => {
          if (r.url.startsWith("/job/")) arrivals.push({ url: r.url, app: i });
          res.writeHead(r.url.startsWith("/job/") ? 200 : 404);
          res.end();
        }),
      ),
    );
    const sidecars: Sidecar[] = await Promise.all(
      apps.map((a) =>
        sidecar({
          appId,
          appPort: a.port,
          grpcPort: 0,
          schedulerStore: postgres.connectionString,
        }),
      ),
    );
    try {
      await Promise.all(sidecars.map((s) => s.ready()));
      const due = new Date(Date.now() + 1500).toISOString();
      // Scheduled through different sidecars; all due at the same instant.
      for (let i = 0; i < 30; i++) {
        const s = sidecars[i % 3] as Sidecar;
        const r = await fetch(`${s.url}/v1.0-alpha1/jobs/one-${i}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ dueTime: due, data: i }),
        });
        expect(r.status).toBe(204);
      }
      const r = await fetch(`${(sidecars[1] as Sidecar).url}/v1.0/jobs/every`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ schedule: "@every 400ms", repeats: 5 }),
      });
      expect(r.status).toBe(204);
      await until(() => arrivals.length >= 35 || undefined, 10_000);
      await sleep(1500);
      const count = (url: string) => arrivals.filter((a) => a.url === url).length;
      for (let i = 0; i < 30; i++) expect(count(`/job/one-${i}`), `one-${i}`).toBe(1);
      expect(count("/job/every")).toBe(5);
      expect(arrivals).toHaveLength(35);
      // Every sidecar sees the same jobs (none left).
      const left = await fetch(`${(sidecars[2] as Sidecar).url}/v1.0/jobs/every`);
      expect(left.status).toBe(404);
    } finally {
      await Promise.all(sidecars.map((s) => s.stop()));
      await Promise.all(apps.map((a) => a.close()));
    }
  });
});

async function raceClaims(open: () => Promise<SchedulerStore>, prefix: string): Promise<void> {
  const writer = await open();
  const now = Date.now();
  for (let i = 0; i < 200; i++) {
    await writer.put(
      {
        key: `${prefix}${String(i).padStart(3, "0")}`,
        spec: { dueTime: "0s" },
        payload: new Uint8Array(),
        createdAt: now,
        dueAt: now - 1,
        count: 0,
        attempts: 0,
        generation: "g",
      },
      false,
    );
  }
  const claimers = await Promise.all([open(), open(), open(), open()]);
  const claimed: string[] = [];
  await Promise.all(
    claimers.map(async (store, n) => {
      for (;;) {
        const got = await store.claim([prefix], Date.now(), `owner-${n}`, Date.now() + 60_000, 7);
        if (got.length === 0) return;
        for (const j of got) claimed.push(j.key);
      }
    }),
  );
  expect(claimed).toHaveLength(200);
  expect(new Set(claimed).size).toBe(200);
  // A leased tick is not claimable again until its lease ends; a settled one moves on.
  expect(await writer.claim([prefix], Date.now(), "late", Date.now() + 1000, 10)).toHaveLength(0);
  expect(await writer.nextClaimable([prefix])).toBeGreaterThan(Date.now());
  // A restarted sidecar that keeps its owner id releases what its previous run leased: those
  // ticks are claimable at once, the others' stay leased.
  const mine = await writer.release("owner-0");
  expect(mine, "owner-0 leased some ticks").toBeGreaterThan(0);
  const again = await writer.claim([prefix], Date.now(), "owner-0", Date.now() + 60_000, 500);
  expect(again, "exactly owner-0's ticks are claimable again").toHaveLength(mine);
  expect(await writer.release("nobody")).toBe(0);
  await writer.deleteByPrefix(prefix);
  await Promise.all([writer, ...claimers].map((s) => s.close()));
}

describe("concurrent claimers on one store lease each due tick once", () => {
  it("PostgreSQL (FOR UPDATE SKIP LOCKED)", async () => {
    await raceClaims(
      () => PostgresSchedulerStore.open(postgres.connectionString),
      `race||${randomUUID()}||`,
    );
  });
  it("SQLite (one writer at a time, across connections)", async () => {
    const file = join(dir, "race.db");
    await raceClaims(async () => new SqliteSchedulerStore(file), "race||sqlite||");
  });
});
