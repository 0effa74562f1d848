// The three-sidecar failover scenario of the table placement, run on a SQLite file
// (actors-failover.test.ts) and on PostgreSQL (actors-failover-postgres.test.ts).
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { waitUntil } from "@outrig/conformance/testing";
import { expect } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import { fakeApp, type Received } from "./helpers.ts";
import { sidecarProcess } from "./sidecar-process.ts";

export interface Turn {
  sidecar: number;
  actor: string;
  kind: "method" | "reminder";
  epoch: number;
  enter: number;
  exit: number;
}

/** An app hosting the actor type `Fenced`: each turn records where it ran and under which epoch. */
export async function fencedApp(index: number, turns: Turn[]) {
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

/** A unary gRPC InvokeActor on a sidecar's gRPC API: the actor's answer, parsed. */
function grpcInvoke(port: number, actor: string): Promise<{ sidecar: number; epoch: number }> {
  const { dapr } = daprProtos();
  const Client = grpc.makeClientConstructor(dapr.dapr.proto.runtime.v1.Dapr.service, "Dapr");
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never as {
    invokeActor(r: object, cb: (error: Error | null, answer?: { data: Buffer }) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) => {
    client.invokeActor(
      { actorType: "Fenced", actorId: actor, method: "hit", data: Buffer.from("{}") },
      (error, answer) => {
        client.close();
        if (error || !answer) reject(error ?? new Error("no answer"));
        else resolve(JSON.parse(answer.data.toString("utf8")));
      },
    );
  });
}

/**
 * Three sidecar processes of three apps hosting `Fenced` and one whose app hosts none, on
 * `store` (a SQLite file or a `postgres://` URL) in `namespace`: each actor has one owner
 * whichever sidecar is called (HTTP or gRPC); the owner of an actor with a reminder is SIGKILLed
 * while calls stream to it, and its calls and reminder must move to a survivor within 10 s; a
 * new sidecar then joins while calls stream and takes actors over without a failed call. No
 * turns of an actor overlap and their epochs never go back.
 */
export async function failover(store: string, namespace: string): Promise<void> {
  {
    const turns: Turn[] = [];
    const apps = await Promise.all([0, 1, 2].map((i) => fencedApp(i, turns)));
    const sidecars: { url: string; info: { grpcPort: number }; kill(): Promise<void> }[] = [];
    try {
      for (const [i, app] of apps.entries()) {
        sidecars.push(
          await sidecarProcess<{ url: string; grpcPort: number }>(
            {
              ACTORS_APP_ID: `fenced-${i}`,
              ACTORS_APP_PORT: String(app.port),
              ACTORS_STORE: store,
              ACTORS_NAMESPACE: namespace,
            },
            "actors-sidecar.ts",
          ),
        );
      }
      // A fourth sidecar whose app hosts no actors: a member that only forwards.
      sidecars.push(
        await sidecarProcess<{ url: string; grpcPort: number }>(
          { ACTORS_APP_ID: "forwarder", ACTORS_STORE: store, ACTORS_NAMESPACE: namespace },
          "actors-sidecar.ts",
        ),
      );
      const placementOf = async (url: string) => {
        const meta = (await (await fetch(`${url}/v1.0/metadata`)).json()) as {
          actorRuntime: { placement: string };
        };
        return meta.actorRuntime.placement;
      };
      for (const s of sidecars) {
        await waitUntil(
          async () => (await placementOf(s.url)).includes("4 members"),
          10_000,
          "all four joined",
        );
      }
      expect(await placementOf(sidecars[0]?.url as string)).toMatch(
        /^placement: table \(.*epoch \d+, 4 members/,
      );
      const call = async (via: number, actor: string) => {
        const r = await fetch(
          `${sidecars[via]?.url}/v1.0/actors/Fenced/${encodeURIComponent(actor)}/method/hit`,
          { method: "PUT", body: "{}", signal: AbortSignal.timeout(8000) },
        );
        if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
        return (await r.json()) as { sidecar: number; epoch: number };
      };

      // Each actor, called through every sidecar (the one hosting none too), runs on one owner.
      const ids = Array.from({ length: 24 }, (_, i) => `a${i}`);
      const owner = new Map<string, number>();
      for (const id of ids) {
        const answers = [
          await call(0, id),
          await call(1, id),
          await call(2, id),
          await call(3, id),
        ];
        expect(new Set(answers.map((a) => a.sidecar)).size).toBe(1);
        owner.set(id, answers[0]?.sidecar as number);
      }
      expect(new Set(owner.values()).size).toBe(3);
      // gRPC InvokeActor through a sidecar that does not own the actor is forwarded too.
      for (const id of ids.slice(0, 6)) {
        const via = ((owner.get(id) as number) + 1) % 3;
        const port = sidecars[via]?.info.grpcPort ?? 0;
        expect((await grpcInvoke(port, id)).sidecar).toBe(owner.get(id));
      }

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
      // Actors of the survivors stayed where they were.
      for (const id of ids) {
        if (owner.get(id) === victim) continue;
        expect((await call(survivor, id)).sidecar).toBe(owner.get(id));
      }

      // The victim's app gets a new sidecar: a new member joins while calls to every actor
      // stream through the forwarder, and the actors it now owns move to it without a failure.
      const joinAt = performance.now();
      let joining = true;
      const during: { ok: boolean; error?: string }[] = [];
      const flow = (async () => {
        while (joining) {
          await Promise.all(
            ids.map((id) =>
              call(3, id).then(
                () => during.push({ ok: true }),
                (e: unknown) => during.push({ ok: false, error: String(e) }),
              ),
            ),
          );
        }
      })();
      sidecars[victim] = await sidecarProcess<{ url: string; grpcPort: number }>(
        {
          ACTORS_APP_ID: `fenced-${victim}`,
          ACTORS_APP_PORT: String(apps[victim]?.port),
          ACTORS_STORE: store,
          ACTORS_NAMESPACE: namespace,
        },
        "actors-sidecar.ts",
      );
      await waitUntil(
        () => turns.some((t) => t.sidecar === victim && t.enter > joinAt),
        10_000,
        "actors move to the new member",
      );
      await sleep(500);
      joining = false;
      await flow;
      expect(during.filter((d) => !d.ok)).toEqual([]);
      for (const id of ids) {
        expect((await call(victim, id)).sidecar).toBe((await call(3, id)).sidecar);
      }

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
      // The reminder is not left behind in a shared store.
      const gone = await fetch(
        `${sidecars[survivor]?.url}/v1.0/actors/Fenced/${doomed}/reminders/beat`,
        { method: "DELETE" },
      );
      expect(gone.status).toBe(204);
    } finally {
      await Promise.all(sidecars.map((s) => s.kill()));
      await Promise.all(apps.map((a) => a.close()));
    }
  }
}
