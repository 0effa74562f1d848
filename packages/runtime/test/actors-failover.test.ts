// Actor placement across sidecars (the table placement): three sidecar processes on one SQLite
// file, each with its own app hosting the type. Every actor has one owner whichever sidecar is
// called; when the owner of an actor is SIGKILLed mid-stream, its calls and its reminder move to
// a survivor within a bounded time, and no two turns of one actor ever overlap, checked by the
// fencing epoch each turn carries to the app.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteMembershipStore } from "../src/actors/membership.ts";
import { rendezvousOwner, weighted } from "../src/actors/rendezvous.ts";
import { TablePlacement } from "../src/actors/table-placement.ts";
import { failover } from "./actors-failover.ts";

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
    const open = (port: number) =>
      new TablePlacement({
        store: new SqliteMembershipStore(file, "default"),
        appId: `app-${port}`,
        address: () => ({ host: "127.0.0.1", port }),
        logger: silentLogger,
        storeName: "test",
        heartbeatMs: 100,
        leaseMs: 1000,
      });
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
