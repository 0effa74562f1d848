// Actor placement across sidecars (the table placement): three sidecar processes on one SQLite
// file, each with its own app hosting the type. Every actor has one owner whichever sidecar is
// called; when the owner of an actor is SIGKILLed mid-stream, its calls and its reminder move to
// a survivor within a bounded time, and no two turns of one actor ever overlap, checked by the
// fencing epoch each turn carries to the app.

import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteMembershipStore } from "../src/actors/membership.ts";
import { rendezvousOwner, weighted } from "../src/actors/rendezvous.ts";
import { TablePlacement } from "../src/actors/table-placement.ts";
import { fakeApp, type Received } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

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

interface Turn {
  sidecar: number;
  actor: string;
  kind: "method" | "reminder";
  epoch: number;
  enter: number;
  exit: number;
}

/** An app hosting the actor type `Fenced`: each turn records where it ran and under which epoch. */
async function fencedApp(index: number, turns: Turn[]) {
  return fakeApp(
    (r: Received, res: ServerResponse) => {
      if (r.method === "GET" && r.url === "/dapr/config") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ entities: ["Fenced"], drainRebalancedActors: true }));
        return;
      }
      const m = /^\/actors\/Fenced\/([^/]+)\/method\/(remind\/)?([^/?]+)/.exec(r.url);
      if (r.method !== "PUT" || !m) {
        res.writeHead(200);
        res.end();
        return;
      }
      const turn: Turn = {
        sidecar: index,
        actor: decodeURIComponent(m[1] as string),
        kind: m[2] ? "reminder" : "method",
        epoch: Number(r.headers["outrig-actor-epoch"]),
        enter: performance.now(),
        exit: 0,
      };
      setTimeout(() => {
        turn.exit = performance.now();
        turns.push(turn);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ sidecar: index, epoch: turn.epoch }));
      }, 15);
    },
    { actors: true },
  );
}

describe("three sidecars on one SQLite file", () => {
  it("route each actor to one owner and move a killed owner's calls and reminder to a survivor", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-actors-failover-"));
    const turns: Turn[] = [];
    const apps = await Promise.all([0, 1, 2].map((i) => fencedApp(i, turns)));
    const sidecars: Awaited<ReturnType<typeof sidecarProcess>>[] = [];
    try {
      for (const [i, app] of apps.entries()) {
        sidecars.push(
          await sidecarProcess(
            {
              ACTORS_APP_ID: `fenced-${i}`,
              ACTORS_APP_PORT: String(app.port),
              ACTORS_STORE: join(dir, "scheduler.db"),
            },
            "actors-sidecar.ts",
          ),
        );
      }
      const placementOf = async (url: string) => {
        const meta = (await (await fetch(`${url}/v1.0/metadata`)).json()) as {
          actorRuntime: { placement: string };
        };
        return meta.actorRuntime.placement;
      };
      for (const s of sidecars) {
        await waitUntil(
          async () => (await placementOf(s.url)).includes("3 members"),
          10_000,
          "all three joined",
        );
      }
      expect(await placementOf(sidecars[0]?.url as string)).toMatch(
        /^placement: table \(.*epoch \d+, 3 members/,
      );
      const call = async (via: number, actor: string) => {
        const r = await fetch(
          `${sidecars[via]?.url}/v1.0/actors/Fenced/${encodeURIComponent(actor)}/method/hit`,
          { method: "PUT", body: "{}", signal: AbortSignal.timeout(8000) },
        );
        if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
        return (await r.json()) as { sidecar: number; epoch: number };
      };

      // Each actor, called through every sidecar, runs on one owner.
      const ids = Array.from({ length: 24 }, (_, i) => `a${i}`);
      const owner = new Map<string, number>();
      for (const id of ids) {
        const answers = [await call(0, id), await call(1, id), await call(2, id)];
        expect(new Set(answers.map((a) => a.sidecar)).size).toBe(1);
        owner.set(id, answers[0]?.sidecar as number);
      }
      expect(new Set(owner.values()).size).toBe(3);

      // The victim owns `doomed`, which has a reminder every 300 ms.
      const victim = owner.get("a0") as number;
      const survivor = (victim + 1) % 3;
      const doomed = "a0";
      const reminder = await fetch(
        `${sidecars[survivor]?.url}/v1.0/actors/Fenced/${doomed}/reminders/beat`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ dueTime: "0s", period: "300ms" }),
        },
      );
      expect(reminder.status).toBe(204);
      const reminded = (sidecar: number, after = 0) =>
        turns.some(
          (t) =>
            t.actor === doomed && t.kind === "reminder" && t.sidecar === sidecar && t.enter > after,
        );
      await waitUntil(() => reminded(victim), 10_000, "the reminder fires on its owner");

      // A stream of calls to the doomed actor through a survivor; the owner dies in the middle.
      let streaming = true;
      const results: { at: number; ok: boolean; sidecar?: number }[] = [];
      const stream = (async () => {
        while (streaming) {
          try {
            const a = await call(survivor, doomed);
            results.push({ at: performance.now(), ok: true, sidecar: a.sidecar });
          } catch {
            results.push({ at: performance.now(), ok: false });
            await sleep(100);
          }
        }
      })();
      await waitUntil(() => results.filter((r) => r.ok).length >= 10, 10_000, "calls flow");
      const killedAt = performance.now();
      await sidecars[victim]?.kill();
      await waitUntil(
        () => results.some((r) => r.ok && r.at > killedAt && r.sidecar !== victim),
        10_000,
        "the calls move to a survivor",
      );
      await waitUntil(
        () =>
          turns.some(
            (t) =>
              t.actor === doomed &&
              t.kind === "reminder" &&
              t.sidecar !== victim &&
              t.enter > killedAt,
          ),
        10_000,
        "the reminder moves to a survivor",
      );
      const movedAt = results.find((r) => r.ok && r.at > killedAt)?.at as number;
      expect(movedAt - killedAt).toBeLessThan(10_000);
      const firstReminder = turns.find(
        (t) =>
          t.actor === doomed && t.kind === "reminder" && t.sidecar !== victim && t.enter > killedAt,
      )?.enter as number;
      console.info(
        `failover: calls moved ${Math.round(movedAt - killedAt)} ms after the kill, the reminder ${Math.round(firstReminder - killedAt)} ms; ${results.filter((r) => !r.ok).length} calls failed meanwhile`,
      );
      await sleep(600);
      streaming = false;
      await stream;
      const after = results.filter((r) => r.at > movedAt);
      expect(after.every((r) => r.ok && r.sidecar !== victim)).toBe(true);
      // The new owner is the same for calls through either survivor.
      const other = 3 - victim - survivor;
      expect((await call(other, doomed)).sidecar).toBe((await call(survivor, doomed)).sidecar);

      // No two turns of one actor overlapped, on one sidecar or across them, and the epoch an
      // actor's turns ran under never went back.
      const byActor = new Map<string, Turn[]>();
      for (const t of turns) {
        const list = byActor.get(t.actor) ?? [];
        byActor.set(t.actor, list);
        list.push(t);
      }
      expect(byActor.get(doomed)?.some((t) => t.sidecar !== victim)).toBe(true);
      for (const [actor, list] of byActor) {
        list.sort((x, y) => x.enter - y.enter);
        for (let i = 1; i < list.length; i++) {
          const prev = list[i - 1] as Turn;
          const t = list[i] as Turn;
          if (t.enter < prev.exit) {
            throw new Error(`turns of ${actor} overlap: ${JSON.stringify([prev, t])}`);
          }
          expect(t.epoch).toBeGreaterThanOrEqual(prev.epoch);
          if (t.sidecar !== prev.sidecar) expect(t.epoch).toBeGreaterThan(prev.epoch);
        }
      }
      // Actors of the survivors stayed where they were.
      for (const id of ids) {
        if (owner.get(id) === victim) continue;
        expect((await call(survivor, id)).sidecar).toBe(owner.get(id));
      }
    } finally {
      await Promise.all(sidecars.map((s) => s.kill()));
      await Promise.all(apps.map((a) => a.close()));
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
