// Virtual actors on one sidecar, driven over Dapr's HTTP actor API against a real HTTP app that
// speaks Dapr's actor callbacks (/dapr/config, PUT /actors/...): turns, reentrancy, timers,
// reminders, idle deactivation, state and the errors daprd answers.
import { mkdtemp, rm } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { ACTOR_STORE } from "./fixtures/counter-actor.ts";
import { fakeApp, type Received, sidecar } from "./helpers.ts";

interface Event {
  kind: "enter" | "exit";
  actor: string;
  at: number;
}

const events: Event[] = [];
const calls: Received[] = [];
let s: Sidecar;
let app: Awaited<ReturnType<typeof fakeApp>>;
let dir: string;

/** The app's actor methods: `slow` sleeps 5 ms between enter and exit; `chain` re-enters. */
async function answer(r: Received, res: ServerResponse): Promise<void> {
  calls.push(r);
  if (r.method === "GET" && r.url === "/dapr/config") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        entities: ["Counter", "Reentrant", "Sleepy"],
        actorIdleTimeout: "1h",
        entitiesConfig: [
          { entities: ["Reentrant"], reentrancy: { enabled: true, maxStackDepth: 3 } },
          { entities: ["Sleepy"], actorIdleTimeout: "300ms" },
        ],
      }),
    );
    return;
  }
  const m = /^\/actors\/([^/]+)\/([^/]+)\/method\/(.+)$/.exec(r.url);
  if (r.method === "PUT" && m) {
    const [, type, id, method] = m as unknown as [string, string, string, string];
    const actor = `${type}/${id}`;
    events.push({ kind: "enter", actor, at: performance.now() });
    if (method === "slow") await sleep(5);
    let body = r.body;
    if (method === "chain") {
      const depth = Number(JSON.parse(r.body || "0"));
      const nested =
        depth <= 1
          ? { status: 200, body: "" }
          : await fetch(`${s.url}/v1.0/actors/${type}/${id}/method/chain`, {
              method: "PUT",
              headers: {
                "content-type": "application/json",
                "dapr-reentrancy-id": String(r.headers["dapr-reentrancy-id"] ?? ""),
              },
              body: String(depth - 1),
            }).then(async (x) => ({ status: x.status, body: await x.text() }));
      body = JSON.stringify({ depth, nested });
    }
    events.push({ kind: "exit", actor, at: performance.now() });
    if (method === "fail") {
      res.writeHead(418, { "content-type": "text/plain" });
      res.end("teapot");
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "x-actor": actor });
    res.end(body);
    return;
  }
  res.writeHead(200);
  res.end();
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.url}/v1.0/actors/${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-actors-"));
  app = await fakeApp((r, res) => void answer(r, res), { actors: true });
  s = await sidecar({
    appId: "actors-app",
    appPort: app.port,
    grpcPort: 0,
    resources: ACTOR_STORE,
    schedulerStore: join(dir, "scheduler.db"),
    schedulerPollMs: 100,
  });
  await s.ready();
});

afterAll(async () => {
  await s?.stop();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Turns of `actor` as [enter, exit] pairs, in order. */
function turnsOf(actor: string): [number, number][] {
  const out: [number, number][] = [];
  let open: number | undefined;
  for (const e of events.filter((x) => x.actor === actor)) {
    if (e.kind === "enter") {
      expect(open, `${actor} entered twice without leaving`).toBeUndefined();
      open = e.at;
    } else {
      expect(open, `${actor} left without entering`).toBeDefined();
      out.push([open as number, e.at]);
      open = undefined;
    }
  }
  return out;
}

describe("actor method invocation", () => {
  it("reaches the app as PUT /actors/{type}/{id}/method/{m} and passes its answer back", async () => {
    const res = await api("Counter/c1/method/echo?x=1", { method: "POST", body: '{"n":1}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-actor")).toBe("Counter/c1");
    expect(await res.json()).toEqual({ n: 1 });
    const call = calls.find((c) => c.url === "/actors/Counter/c1/method/echo?x=1");
    expect(call?.method).toBe("PUT");
    expect(call?.body).toBe('{"n":1}');
    // Without reentrancy enabled for the type, no reentrancy id is sent (daprd 1.15.1 fix).
    expect(call?.headers["dapr-reentrancy-id"]).toBeUndefined();
    const failed = await api("Counter/c1/method/fail", { method: "PUT" });
    expect(failed.status).toBe(418);
    expect(await failed.text()).toBe("teapot");
  });

  it("runs 100 concurrent calls to one actor one at a time, different actors in parallel", async () => {
    events.length = 0;
    const one = Array.from({ length: 100 }, () =>
      api("Counter/busy/method/slow", { method: "PUT" }),
    );
    const others = Array.from({ length: 10 }, (_, i) =>
      api(`Counter/other-${i}/method/slow`, { method: "PUT" }),
    );
    const answers = await Promise.all([...one, ...others]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const turns = turnsOf("Counter/busy");
    expect(turns).toHaveLength(100);
    for (let i = 1; i < turns.length; i++) {
      expect((turns[i] as [number, number])[0]).toBeGreaterThanOrEqual(
        (turns[i - 1] as [number, number])[1],
      );
    }
    // Some call of another actor ran while `busy` was inside a turn: actors are independent.
    const otherTurns = Array.from({ length: 10 }, (_, i) => turnsOf(`Counter/other-${i}`)).flat();
    const overlaps = otherTurns.some(([enter, exit]) =>
      turns.some(([e, x]) => enter < x && exit > e),
    );
    expect(overlaps).toBe(true);
  });

  it("answers an unknown actor type 500 ERR_ACTOR_INVOKE_METHOD, as daprd without an owner", async () => {
    const res = await api("Nobody/x/method/m", { method: "POST" });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      errorCode: "ERR_ACTOR_INVOKE_METHOD",
      message: "error invoke actor method: did not find address for actor Nobody||x",
    });
  });
});

describe("reentrancy", () => {
  it("lets a chain re-enter its actor by Dapr-Reentrancy-Id, up to maxStackDepth", async () => {
    const ok = await api("Reentrant/r1/method/chain", { method: "PUT", body: "3" });
    expect(ok.status).toBe(200);
    const level1 = (await ok.json()) as { depth: number; nested: { status: number; body: string } };
    expect(level1.depth).toBe(3);
    expect(level1.nested.status).toBe(200);
    const level2 = JSON.parse(level1.nested.body) as typeof level1;
    expect(level2.depth).toBe(2);
    expect(JSON.parse(level2.nested.body)).toEqual({ depth: 1, nested: { status: 200, body: "" } });
    const ids = calls
      .filter((c) => c.url === "/actors/Reentrant/r1/method/chain")
      .map((c) => c.headers["dapr-reentrancy-id"]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a call beyond maxStackDepth with ERR_ACTOR_INVOKE_METHOD", async () => {
    const deep = await api("Reentrant/r2/method/chain", { method: "PUT", body: "4" });
    expect(deep.status).toBe(200);
    const level1 = (await deep.json()) as { nested: { body: string } };
    const level2 = JSON.parse(level1.nested.body) as { nested: { status: number; body: string } };
    const level3 = JSON.parse(level2.nested.body) as { nested: { status: number; body: string } };
    expect(level3.nested.status).toBe(500);
    expect(JSON.parse(level3.nested.body)).toEqual({
      errorCode: "ERR_ACTOR_INVOKE_METHOD",
      message: "error invoke actor method: maximum stack depth exceeded",
    });
    // The chain's turn ended cleanly: the actor takes the next call.
    expect((await api("Reentrant/r2/method/echo", { method: "PUT", body: "1" })).status).toBe(200);
  });
});

describe("actor state", () => {
  it("applies a transaction and reads keys back under <appId>||<type>||<id>||<key>", async () => {
    const tx = await api("Counter/s1/state", {
      method: "POST",
      body: JSON.stringify([
        { operation: "upsert", request: { key: "count", value: { n: 7 } } },
        { operation: "upsert", request: { key: "gone", value: 1 } },
        { operation: "delete", request: { key: "gone" } },
      ]),
    });
    expect(tx.status).toBe(204);
    const got = await api("Counter/s1/state/count");
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ n: 7 });
    expect((await api("Counter/s1/state/gone")).status).toBe(204);
    const raw = await s.runtime.stateStore("actorstore").component.get({
      key: "actors-app||Counter||s1||count",
    });
    expect(JSON.parse(Buffer.from(raw.data as Uint8Array).toString())).toEqual({ n: 7 });
  });

  it("refuses ttlInSeconds without the ActorStateTTL feature, applying nothing", async () => {
    const tx = await api("Counter/s2/state", {
      method: "PUT",
      body: JSON.stringify([
        { operation: "upsert", request: { key: "a", value: 1 } },
        { operation: "upsert", request: { key: "b", value: 2, metadata: { ttlInSeconds: "60" } } },
      ]),
    });
    expect(tx.status).toBe(500);
    expect(await tx.json()).toEqual({
      errorCode: "ERR_ACTOR_STATE_TRANSACTION_SAVE",
      message:
        'error saving actor transaction state: ttlInSeconds is not supported without the "ActorStateTTL" feature enabled',
    });
    expect((await api("Counter/s2/state/a")).status).toBe(204);
  });

  it("answers ERR_ACTOR_INSTANCE_MISSING for a type this sidecar does not host", async () => {
    const res = await api("Nobody/x/state/k");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe(
      "ERR_ACTOR_INSTANCE_MISSING",
    );
  });
});

describe("reminders", () => {
  it("fire at their due time and period (R3/…: three times), never early, as turns", async () => {
    const before = calls.length;
    const registered = Date.now();
    const res = await api("Counter/rem1/reminders/tick", {
      method: "POST",
      body: JSON.stringify({ dueTime: "300ms", period: "R3/PT0.2S", data: { hello: "r" } }),
    });
    expect(res.status).toBe(204);
    const got = await api("Counter/rem1/reminders/tick");
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({
      actorID: "rem1",
      actorType: "Counter",
      dueTime: "300ms",
      period: "R3/PT0.2S",
      data: { hello: "r" },
    });
    const fired = () =>
      calls.slice(before).filter((c) => c.url === "/actors/Counter/rem1/method/remind/tick");
    await waitUntil(() => fired().length >= 3, 10_000);
    await sleep(500);
    expect(fired()).toHaveLength(3);
    expect(JSON.parse(fired()[0]?.body ?? "")).toEqual({
      data: { hello: "r" },
      dueTime: "300ms",
      period: "R3/PT0.2S",
    });
    const firstAt = events.find((e) => e.actor === "Counter/rem1")?.at ?? 0;
    expect(firstAt + performance.timeOrigin).toBeGreaterThanOrEqual(registered + 300);
    // Done after its repetitions: nothing left to get.
    const after = await api("Counter/rem1/reminders/tick");
    expect(after.status).toBe(404);
    expect(((await after.json()) as { errorCode: string }).errorCode).toBe(
      "ERR_ACTOR_REMINDER_NOT_FOUND",
    );
  });

  it("refuses a bad period with ERR_ACTOR_REMINDER_CREATE naming it", async () => {
    const res = await api("Counter/rem2/reminders/bad", {
      method: "POST",
      body: JSON.stringify({ period: "every now and then" }),
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_ACTOR_REMINDER_CREATE");
    expect(body.message).toBe(
      'error creating actor reminder: invalid reminder period: parse error: unsupported duration format "every now and then"',
    );
    const zero = await api("Counter/rem2/reminders/bad", {
      method: "POST",
      body: JSON.stringify({ period: "R0/PT1S" }),
    });
    expect(((await zero.json()) as { message: string }).message).toBe(
      "error creating actor reminder: invalid reminder period: has zero repetitions",
    );
    const field = await api("Counter/rem2/reminders/bad", {
      method: "POST",
      body: JSON.stringify({ periodd: "1s" }),
    });
    expect(field.status).toBe(400);
  });

  it("refuses reminders of a type the app does not host: 403 ERR_ACTOR_REMINDER_NON_HOSTED", async () => {
    const res = await api("Nobody/x/reminders/r", { method: "POST", body: "{}" });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      errorCode: "ERR_ACTOR_REMINDER_NON_HOSTED",
      message: "operations on actor reminders are only possible on hosted actor types",
    });
  });

  it("is deleted by DELETE and then never fires", async () => {
    const before = calls.length;
    await api("Counter/rem3/reminders/later", {
      method: "POST",
      body: JSON.stringify({ dueTime: "400ms" }),
    });
    expect((await api("Counter/rem3/reminders/later", { method: "DELETE" })).status).toBe(204);
    await sleep(800);
    expect(calls.slice(before).filter((c) => c.url.includes("/remind/later"))).toHaveLength(0);
  });
});

describe("timers", () => {
  it("fire with their callback while the actor is active, and stop when deleted", async () => {
    const before = calls.length;
    expect((await api("Counter/t1/method/echo", { method: "PUT", body: "1" })).status).toBe(200);
    const res = await api("Counter/t1/timers/beat", {
      method: "POST",
      body: JSON.stringify({ dueTime: "0s", period: "100ms", callback: "onBeat", data: 5 }),
    });
    expect(res.status).toBe(204);
    const beats = () =>
      calls.slice(before).filter((c) => c.url === "/actors/Counter/t1/method/timer/beat");
    await waitUntil(() => beats().length >= 2, 5000);
    expect(JSON.parse(beats()[0]?.body ?? "")).toEqual({
      data: 5,
      callback: "onBeat",
      dueTime: "0s",
      period: "100ms",
    });
    expect((await api("Counter/t1/timers/beat", { method: "DELETE" })).status).toBe(204);
    const count = beats().length;
    await sleep(350);
    expect(beats().length).toBeLessThanOrEqual(count + 1);
  });

  it("cannot be created on an actor that is not active", async () => {
    const res = await api("Counter/never-called/timers/t", {
      method: "POST",
      body: JSON.stringify({ dueTime: "1s" }),
    });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_ACTOR_TIMER_CREATE");
  });
});

describe("metadata", () => {
  it("lists hosted actor types and active counts (actors and actorRuntime)", async () => {
    const doc = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
      actors: { type: string; count: number }[];
      actorRuntime: { runtimeStatus: string; hostReady: boolean; activeActors: unknown[] };
    };
    expect(doc.actorRuntime.runtimeStatus).toBe("RUNNING");
    expect(doc.actorRuntime.hostReady).toBe(true);
    const counter = doc.actors.find((a) => a.type === "Counter");
    expect(counter?.count).toBeGreaterThanOrEqual(12);
    expect(doc.actors.map((a) => a.type).sort()).toEqual(["Counter", "Reentrant", "Sleepy"]);
    expect(doc.actorRuntime.activeActors).toEqual(doc.actors);
  });
});

describe("idle deactivation", () => {
  it("tells the app DELETE /actors/{type}/{id} after actorIdleTimeout, and reactivates on use", async () => {
    const before = calls.length;
    expect((await api("Sleepy/z/method/echo", { method: "PUT", body: "1" })).status).toBe(200);
    await waitUntil(
      () => calls.slice(before).some((c) => c.method === "DELETE" && c.url === "/actors/Sleepy/z"),
      5000,
    );
    expect((await api("Sleepy/z/method/echo", { method: "PUT", body: "2" })).status).toBe(200);
  });
});

describe("the actor state store", () => {
  it("is required for actor state: ERR_ACTOR_RUNTIME_NOT_FOUND without one", async () => {
    const bare = await sidecar({
      appId: "actors-bare",
      appPort: app.port,
      grpcPort: 0,
      schedulerStore: join(dir, "bare.db"),
    });
    try {
      await bare.ready();
      const res = await fetch(`${bare.url}/v1.0/actors/Counter/x/state/k`);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { errorCode: string }).errorCode).toBe(
        "ERR_ACTOR_RUNTIME_NOT_FOUND",
      );
      // Methods still work: actors need a store only for their state.
      const call = await fetch(`${bare.url}/v1.0/actors/Counter/x/method/echo`, {
        method: "PUT",
        body: "1",
      });
      expect(call.status).toBe(200);
    } finally {
      await bare.stop();
    }
  });

  it("is one: two stores marked actorStateStore stop the start naming both", async () => {
    const second = ACTOR_STORE.replace("name: actorstore", "name: actorstore2");
    await expect(
      sidecar({
        appId: "actors-two",
        grpcPort: 0,
        resources: `${ACTOR_STORE}\n---\n${second}`,
        schedulerStore: join(dir, "two.db"),
      }),
    ).rejects.toThrow(
      'detected more than one actor state store: actorstore and actorstore2 are marked actorStateStore: "true"; mark only one',
    );
  });
});
