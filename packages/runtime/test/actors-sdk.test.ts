// The unmodified @dapr/dapr SDK's actors on the sidecar: DaprServer.actor.registerActor hosts an
// actor using state, a timer and a reminder; ActorProxyBuilder drives it from a client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTOR_STORE, CounterActor, counterProxy } from "./fixtures/counter-actor.ts";
import { type SdkApp, startSdkApp } from "./sdk-app.ts";

let app: SdkApp;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-actors-sdk-"));
  app = await startSdkApp({
    appId: "actors-sdk",
    sidecar: {
      resources: ACTOR_STORE,
      schedulerStore: join(dir, "scheduler.db"),
      schedulerPollMs: 100,
    },
    async register(server) {
      await server.actor.init();
      await server.actor.registerActor(CounterActor);
    },
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("@dapr/dapr actors over HTTP", () => {
  it("keeps state across calls, in the actor state store under Dapr's keys", async () => {
    const c = counterProxy(app.client, "http-1");
    expect(await c.increment(2)).toBe(2);
    expect(await c.increment(3)).toBe(5);
    expect(await c.count()).toBe(5);
    const raw = await app.sidecar.runtime.stateStore("actorstore").component.get({
      key: "actors-sdk||CounterActor||http-1||count",
    });
    expect(Buffer.from(raw.data as Uint8Array).toString()).toBe("5");
  });

  it("runs concurrent increments as turns: none is lost", async () => {
    const c = counterProxy(app.client, "http-turns");
    await Promise.all(Array.from({ length: 20 }, () => c.increment(1)));
    expect(await c.count()).toBe(20);
  });

  it("fires a timer with its callback and data until it is unregistered", async () => {
    const c = counterProxy(app.client, "http-timer");
    await c.startTicking();
    await waitUntil(async () => (await c.ticks()) >= 2, 10_000, "two ticks");
    await c.stopTicking();
    const stopped = await c.ticks();
    await new Promise((r) => setTimeout(r, 400));
    expect(await c.ticks()).toBeLessThanOrEqual(stopped + 1);
  });

  it("fires a reminder with its data, which reaches receiveReminder", async () => {
    const c = counterProxy(app.client, "http-reminder");
    await c.remindMe("wake up");
    await waitUntil(async () => (await c.reminded()) !== null, 10_000, "the reminder");
    expect(await c.reminded()).toBe("wake up");
  });

  it("lists the hosted type and its active actors in the metadata", async () => {
    const doc = (await (await fetch(`${app.sidecar.url}/v1.0/metadata`)).json()) as {
      actors: { type: string; count: number }[];
    };
    expect(doc.actors.find((a) => a.type === "CounterActor")?.count).toBeGreaterThanOrEqual(4);
  });
});
