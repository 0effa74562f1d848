// Actors through the gRPC API, with the unmodified @dapr/dapr SDK: the proxy calls InvokeActor,
// and the actor's own client (gRPC too) uses GetActorState, ExecuteActorStateTransaction,
// RegisterActorTimer/Reminder and their Unregister forms, over the same core as HTTP.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DaprClient, DaprServer } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { ACTOR_STORE, CounterActor, counterProxy } from "./fixtures/counter-actor.ts";
import { daprApp, daprClient, freePort, sidecar } from "./helpers.ts";

let s: Sidecar;
let server: DaprServer;
let client: DaprClient;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-actors-grpc-"));
  const appPort = await freePort();
  s = await sidecar({
    appId: "actors-grpc",
    appPort,
    grpcPort: 0,
    resources: ACTOR_STORE,
    schedulerStore: join(dir, "scheduler.db"),
    schedulerPollMs: 100,
  });
  // The SDK serves actor callbacks over HTTP only; its client (the actor's own) speaks gRPC.
  server = daprApp(appPort, s, "http", undefined, "grpc");
  await server.actor.init();
  await server.actor.registerActor(CounterActor);
  await server.start();
  await s.ready();
  client = daprClient(s, "grpc");
}, 60_000);

/** A plain gRPC client of the sidecar's Dapr service, for fields the SDK does not show. */
function rawDapr<T>(): T & { close(): void } {
  const { dapr } = daprProtos();
  const Client = grpc.makeClientConstructor(dapr.dapr.proto.runtime.v1.Dapr.service, "Dapr");
  return new Client(`127.0.0.1:${s.grpcPort}`, grpc.credentials.createInsecure()) as never;
}

afterAll(async () => {
  await client?.stop().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("@dapr/dapr actors over the gRPC API", () => {
  it("invokes methods and keeps state", async () => {
    const c = counterProxy(client, "g1");
    expect(await c.increment(4)).toBe(4);
    expect(await c.increment(1)).toBe(5);
    expect(await c.count()).toBe(5);
  });

  it("fires a timer registered over gRPC until it is unregistered", async () => {
    const c = counterProxy(client, "g-timer");
    await c.startTicking();
    await waitUntil(async () => (await c.ticks()) >= 2, 10_000, "two ticks");
    await c.stopTicking();
  });

  it("fires a reminder registered over gRPC; its bytes arrive as base64 JSON, as daprd sends them", async () => {
    const c = counterProxy(client, "g-reminder");
    await c.remindMe("over grpc");
    await waitUntil(async () => (await c.reminded()) !== null, 10_000, "the reminder");
    expect(await c.reminded()).toBe(Buffer.from("over grpc").toString("base64"));
  });

  it("reports the actor runtime in GetMetadata", async () => {
    interface Meta {
      actorRuntime: { runtimeStatus: string; activeActors: { type: string; count: number }[] };
    }
    const raw = rawDapr<{
      GetMetadata(r: object, cb: (e: grpc.ServiceError | null, r?: Meta) => void): void;
    }>();
    const meta = await new Promise<Meta>((resolve, reject) =>
      raw.GetMetadata({}, (e, r) => (e || !r ? reject(e) : resolve(r))),
    );
    raw.close();
    expect(meta.actorRuntime.runtimeStatus).toBe("RUNNING");
    expect(
      meta.actorRuntime.activeActors.find((a) => a.type === "CounterActor")?.count,
    ).toBeGreaterThanOrEqual(3);
  });

  it("lists and deletes reminders by type and by actor (ListActorReminders, UnregisterActorRemindersByType)", async () => {
    type Cb<R = unknown> = (e: grpc.ServiceError | null, r?: R) => void;
    const raw = rawDapr<{
      RegisterActorReminder(r: object, cb: Cb): void;
      ListActorReminders(r: object, cb: Cb<{ reminders: { name: string }[] }>): void;
      UnregisterActorRemindersByType(r: object, cb: Cb): void;
    }>();
    const call = <R>(fn: (r: object, cb: Cb<R>) => void, r: object) =>
      new Promise<R>((resolve, reject) =>
        fn.call(raw, r, (e, out) => (e ? reject(e) : resolve(out as R))),
      );
    const actorType = "CounterActor";
    for (const [actorId, name] of [
      ["l1", "a"],
      ["l1", "b"],
      ["l2", "a"],
    ]) {
      await call(raw.RegisterActorReminder, { actorType, actorId, name, dueTime: "1h" });
    }
    const names = async (actorId?: string) =>
      (await call(raw.ListActorReminders, { actorType, ...(actorId ? { actorId } : {}) })).reminders
        .map((r) => r.name)
        .sort();
    expect(await names("l1")).toEqual(["a", "b"]);
    expect((await names()).filter((n) => n === "a")).toHaveLength(2);
    await call(raw.UnregisterActorRemindersByType, { actorType, actorId: "l1" });
    expect(await names("l1")).toEqual([]);
    expect(await names("l2")).toEqual(["a"]);
    await call(raw.UnregisterActorRemindersByType, { actorType });
    expect(await names()).toEqual([]);
    raw.close();
  });

  it("answers an unknown type INTERNAL with daprd's message", async () => {
    const raw = rawDapr<{
      InvokeActor(r: object, cb: (e: grpc.ServiceError | null) => void): void;
    }>();
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.InvokeActor({ actorType: "Nobody", actorId: "x", method: "m" }, (e) => resolve(e)),
    );
    raw.close();
    expect(error?.code).toBe(grpc.status.INTERNAL);
    expect(error?.details).toBe(
      "error invoke actor method: did not find address for actor Nobody||x",
    );
  });
});
