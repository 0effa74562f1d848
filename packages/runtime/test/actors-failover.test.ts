// Actor placement across sidecars (the table placement): three sidecar processes on one SQLite
// file, each with its own app hosting the type. Every actor has one owner whichever sidecar is
// called; when the owner of an actor is SIGKILLed mid-stream, its calls and its reminder move to
// a survivor within a bounded time, and no two turns of one actor ever overlap, checked by the
// fencing epoch each turn carries to the app.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { waitUntil } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteMembershipStore } from "../src/actors/membership.ts";
import { rendezvousOwner, weighted } from "../src/actors/rendezvous.ts";
import { TablePlacement } from "../src/actors/table-placement.ts";
import { failover, fencedApp, type Turn } from "./actors-failover.ts";
import { sidecarProcess } from "./sidecar-process.ts";

/** A placement on the SQLite membership in `file`, as app `app-<port>` on that port, beating fast. */
function tablePlacement(file: string, port: number, leaseMs: number): TablePlacement {
  return new TablePlacement({
    store: new SqliteMembershipStore(file, "default"),
    appId: `app-${port}`,
    address: () => ({ host: "127.0.0.1", port }),
    logger: silentLogger,
    storeName: "test",
    heartbeatMs: 100,
    leaseMs,
  });
}

describe("rendezvous hashing", () => {
  const members = ["m-a", "m-b", "m-c", "m-d"].map((id) => ({ id }));
  const ids = Array.from({ length: 400 }, (_, i) => `actor-${i}`);

  it("picks the same owner for the same membership, whatever its order", () => {
    const one = members.map(weighted);
    const other = [...members].reverse().map(weighted);
    for (const id of ids) {
      expect(rendezvousOwner(other, "T", id)?.id).toBe(rendezvousOwner(one, "T", id)?.id);
    }
    const owners = new Set(ids.map((id) => rendezvousOwner(one, "T", id)?.id));
    expect(owners.size).toBe(4); // every member owns some
  });

  it("moves only the leaving member's actors", () => {
    const all = members.map(weighted);
    const without = all.filter((m) => m.id !== "m-b");
    let moved = 0;
    for (const id of ids) {
      const before = rendezvousOwner(all, "T", id)?.id;
      const after = rendezvousOwner(without, "T", id)?.id;
      if (before === "m-b") moved++;
      else expect(after).toBe(before);
    }
    expect(moved).toBeGreaterThan(0);
  });
});

describe("TablePlacement on one SQLite file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "outrig-placement-table-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("agrees on owners, and fences an activation begun when the actor was owned elsewhere", async () => {
    const file = join(dir, "scheduler.db");
    const open = (port: number) => tablePlacement(file, port, 1000);
    const a = open(1);
    const b = open(2);
    try {
      await a.host(["T"]);
      await b.host(["T"]);
      await waitUntil(() => a.describe().includes("2 members"), 5000, "a sees b");
      const ids = Array.from({ length: 50 }, (_, i) => `x${i}`);
      const kinds = (p: TablePlacement) => ids.map((id) => p.lookup("T", id).kind);
      // Every actor is local on exactly one of them.
      const ka = kinds(a);
      const kb = kinds(b);
      for (let i = 0; i < ids.length; i++) {
        expect([ka[i], kb[i]].sort()).toEqual(["local", "remote"]);
      }
      const onB = ids[kb.indexOf("local")] as string;
      const before = a.lookup("T", onB);
      expect(before.kind).toBe("remote");
      if (before.kind !== "remote") return;
      expect(before.port).toBe(2);
      const epoch = before.epoch;
      // b leaves: a owns everything under a newer epoch.
      await b.close();
      await waitUntil(() => a.lookup("T", onB).kind === "local", 5000, "a takes over");
      const after = a.lookup("T", onB);
      expect(after.kind === "local" && after.epoch > epoch).toBe(true);
      if (after.kind !== "local") return;
      expect(a.stillOwner("T", onB, after.epoch)).toBe(true);
      // An activation of an older epoch, when the actor was elsewhere, is fenced.
      expect(a.stillOwner("T", onB, epoch)).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("TablePlacement handover", () => {
  it("activates a moved actor on its new owner only once the old owner has drained", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-placement-handover-"));
    const file = join(dir, "scheduler.db");
    const open = (port: number) => tablePlacement(file, port, 2000);
    const a = open(1);
    const b = open(2);
    let release!: () => void;
    const draining = new Promise<void>((r) => {
      release = r;
    });
    let changes = 0;
    try {
      await a.host(["T"]);
      // a's deactivations (the runtime's rebalance) take as long as the test holds them.
      a.onChange(() => (changes++ === 0 ? draining : undefined));
      await b.host(["T"]);
      await waitUntil(() => a.describe().includes("2 members"), 5000, "a sees b");
      const moved = Array.from({ length: 50 }, (_, i) => `h${i}`).find(
        (id) => b.lookup("T", id).kind === "local",
      ) as string;
      const owner = b.lookup("T", moved);
      expect(owner.kind).toBe("local");
      if (owner.kind !== "local") return;
      let settled = false;
      const waiting = b
        .settled("T", moved, owner.epoch, AbortSignal.timeout(10_000))
        .then((waited) => {
          settled = true;
          return waited;
        });
      await new Promise((r) => setTimeout(r, 600)); // several heartbeats of both
      expect(settled).toBe(false);
      release();
      expect(await waiting).toBe(true);
      // Once settled, the next activation does not wait.
      expect(await b.settled("T", moved, owner.epoch, AbortSignal.timeout(10_000))).toBe(false);
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("three sidecars on one SQLite file", () => {
  it("route each actor to one owner, move a killed owner's calls and reminder to a survivor, and take a joining one in", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-actors-failover-"));
    try {
      await failover(join(dir, "scheduler.db"), "default");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("a sidecar that stops", () => {
  it("deactivates its actors and deletes its row before its lease runs out: they move at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-actors-leave-"));
    const store = join(dir, "scheduler.db");
    const turns: Turn[] = [];
    const apps = await Promise.all([0, 1].map((i) => fencedApp(i, turns)));
    const sidecars: Awaited<ReturnType<typeof sidecarProcess>>[] = [];
    const db = new DatabaseSync(store);
    try {
      for (const [i, app] of apps.entries()) {
        sidecars.push(
          await sidecarProcess(
            { ACTORS_APP_ID: `leave-${i}`, ACTORS_APP_PORT: String(app.port), ACTORS_STORE: store },
            "actors-sidecar.ts",
          ),
        );
      }
      const leaseOf = () =>
        (
          db
            .prepare("SELECT lease_until FROM outrig_actor_members WHERE app_id = 'leave-0'")
            .get() as { lease_until: number } | undefined
        )?.lease_until;
      const members = () =>
        (db.prepare("SELECT count(*) AS n FROM outrig_actor_members").get() as { n: number }).n;
      await waitUntil(() => members() === 2, 10_000, "both joined");
      const call = async (via: number, actor: string) => {
        const r = await fetch(`${sidecars[via]?.url}/v1.0/actors/Fenced/${actor}/method/hit`, {
          method: "PUT",
          body: "{}",
          signal: AbortSignal.timeout(8000),
        });
        if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
        return (await r.json()) as { sidecar: number };
      };
      await waitUntil(
        async () => (await call(0, "probe").catch(() => undefined)) !== undefined,
        10_000,
        "both sidecars answer",
      );
      const ids = Array.from({ length: 16 }, (_, i) => `l${i}`);
      const owners = new Map<string, number>();
      for (const id of ids) owners.set(id, (await call(1, id)).sidecar);
      const leaving = ids.filter((id) => owners.get(id) === 0);
      expect(leaving.length).toBeGreaterThan(0);

      let lease = leaseOf() as number;
      expect((await fetch(`${sidecars[0]?.url}/v1.0/shutdown`, { method: "POST" })).status).toBe(
        204,
      );
      await waitUntil(
        () => {
          const now = leaseOf();
          if (now !== undefined) lease = now;
          return now === undefined;
        },
        10_000,
        "its row is gone",
      );
      // Deleted by its own leave, not by the others after its lease ran out.
      expect(Date.now()).toBeLessThan(lease);
      const deactivated = apps[0]?.received
        .filter((r) => r.method === "DELETE")
        .map((r) => r.url)
        .sort();
      for (const id of leaving) expect(deactivated).toContain(`/actors/Fenced/${id}`);
      for (const id of leaving) expect((await call(1, id)).sidecar).toBe(1);
    } finally {
      db.close();
      await Promise.all(sidecars.map((s) => s.kill()));
      await Promise.all(apps.map((a) => a.close()));
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
