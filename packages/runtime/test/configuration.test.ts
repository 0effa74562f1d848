// The Configuration API over HTTP (GET, subscribe with deliveries to the app, unsubscribe) against
// configuration.in-memory, written in-process as an app in library mode would.
import type { MemoryConfigurationStore } from "@outrig/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

const CONFIG = `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: configstore
spec:
  type: configuration.in-memory
  version: v1
`;

let s: Sidecar;
let app: Awaited<ReturnType<typeof fakeApp>>;
let store: MemoryConfigurationStore;

const get = (path: string) => fetch(`${s.url}${path}`);
const json = async (res: Response) => (await res.json()) as Record<string, unknown>;
/** The deliveries the app received at `/configuration/configstore/{key}`, in order. */
const deliveries = (key: string) =>
  app.received
    .filter((r) => r.url === `/configuration/configstore/${key}`)
    .map((r) => JSON.parse(r.body) as { id: string; items: Record<string, { value: string }> });

beforeAll(async () => {
  app = await fakeApp((_r, res) => {
    res.writeHead(200);
    res.end();
  });
  s = await sidecar({ appPort: app.port, resources: CONFIG });
  await s.ready();
  store = s.runtime.configurationStore("configstore") as MemoryConfigurationStore;
  await store.set("orderId1", "101", { version: "1" });
  await store.set("orderId2", "102", { version: "1", metadata: { owner: "ops" } });
});
afterAll(async () => {
  await s.stop();
  await app.close();
});

describe("GET /v1.0/configuration/{store}", () => {
  it("returns the named keys as {key: {value, version, metadata}}; missing keys are absent", async () => {
    const res = await get("/v1.0/configuration/configstore?key=orderId1&key=orderId2&key=nope");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      orderId1: { value: "101", version: "1", metadata: {} },
      orderId2: { value: "102", version: "1", metadata: { owner: "ops" } },
    });
  });

  it("without keys returns every item, also under /v1.0-alpha1", async () => {
    for (const version of ["v1.0", "v1.0-alpha1"]) {
      const body = await json(await get(`/${version}/configuration/configstore`));
      expect(Object.keys(body).sort()).toEqual(["orderId1", "orderId2"]);
    }
  });

  it("an unknown store is 400 ERR_CONFIGURATION_STORE_NOT_FOUND naming it", async () => {
    const res = await get("/v1.0/configuration/nostore?key=a");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      errorCode: "ERR_CONFIGURATION_STORE_NOT_FOUND",
      message: "configuration store nostore not found",
    });
  });

  it("without configuration stores every route is 500 ERR_CONFIGURATION_STORE_NOT_CONFIGURED", async () => {
    const bare = await sidecar({});
    try {
      for (const path of [
        "/v1.0/configuration/c",
        "/v1.0/configuration/c/subscribe",
        "/v1.0/configuration/c/x/unsubscribe",
      ]) {
        const res = await fetch(`${bare.url}${path}`);
        expect(res.status).toBe(500);
        expect((await json(res)).errorCode).toBe("ERR_CONFIGURATION_STORE_NOT_CONFIGURED");
      }
    } finally {
      await bare.stop();
    }
  });
});

describe("subscribe and unsubscribe over HTTP", () => {
  it("subscribe answers {id}; every change is POSTed to /configuration/{store}/{key} in order; unsubscribe answers {ok: true} and stops them", async () => {
    const res = await get("/v1.0/configuration/configstore/subscribe?key=orderId1");
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(typeof id).toBe("string");
    for (let i = 1; i <= 5; i++) await store.set("orderId1", `10${i}`, { version: String(i + 1) });
    await store.set("orderId2", "other key", { version: "9" });
    await until(() => deliveries("orderId1").length >= 5);
    const got = deliveries("orderId1");
    expect(got.map((d) => d.id)).toEqual(Array(5).fill(id));
    expect(got.map((d) => d.items.orderId1?.value)).toEqual(["101", "102", "103", "104", "105"]);
    expect(got[0]).toEqual({
      id,
      items: { orderId1: { value: "101", version: "2", metadata: {} } },
    });
    const post = app.received.find((r) => r.url === "/configuration/configstore/orderId1");
    expect(post?.method).toBe("POST");
    expect(post?.headers["content-type"]).toBe("application/json");
    expect(deliveries("orderId2")).toEqual([]);

    const off = await get(`/v1.0/configuration/configstore/${id}/unsubscribe`);
    expect(off.status).toBe(200);
    expect(await off.json()).toEqual({ ok: true });
    await store.set("orderId1", "after", { version: "99" });
    await new Promise((r) => setTimeout(r, 300));
    expect(deliveries("orderId1")).toHaveLength(5);

    const again = await get(`/v1.0/configuration/configstore/${id}/unsubscribe`);
    expect(again.status).toBe(500);
    expect((await json(again)).errorCode).toBe("ERR_CONFIGURATION_UNSUBSCRIBE");
  });

  it("an id of another store, or of a store that does not exist, is refused by name", async () => {
    const { id } = (await json(await get("/v1.0-alpha1/configuration/configstore/subscribe"))) as {
      id: string;
    };
    const missing = await get(`/v1.0/configuration/nostore/${id}/unsubscribe`);
    expect(missing.status).toBe(400);
    expect((await json(missing)).errorCode).toBe("ERR_CONFIGURATION_STORE_NOT_FOUND");
    const off = await get(`/v1.0-alpha1/configuration/configstore/${id}/unsubscribe`);
    expect(await off.json()).toEqual({ ok: true });
  });

  it("a subscription ends when the app is gone (its port refuses the delivery)", async () => {
    const own = await fakeApp((_r, res) => {
      res.writeHead(200);
      res.end();
    });
    const other = await sidecar({ appPort: own.port, resources: CONFIG });
    try {
      await other.ready();
      const mem = other.runtime.configurationStore("configstore") as MemoryConfigurationStore;
      const { id } = (await json(
        await fetch(`${other.url}/v1.0/configuration/configstore/subscribe?key=k`),
      )) as { id: string };
      await mem.set("k", "1");
      await until(() => own.received.length === 1);
      await own.close();
      await mem.set("k", "2");
      // The refused delivery ends the subscription: unsubscribing then finds nothing to end
      // (an unsubscribe that came first would answer 200 and fail this test).
      await new Promise((r) => setTimeout(r, 500));
      const res = await fetch(`${other.url}/v1.0/configuration/configstore/${id}/unsubscribe`);
      expect(res.status).toBe(500);
      expect((await json(res)).errorCode).toBe("ERR_CONFIGURATION_UNSUBSCRIBE");
    } finally {
      await other.stop();
    }
  });

  it("subscribing without an app to deliver to is 500 ERR_CONFIGURATION_SUBSCRIBE saying so", async () => {
    const noApp = await sidecar({ resources: CONFIG });
    try {
      const res = await fetch(`${noApp.url}/v1.0/configuration/configstore/subscribe?key=a`);
      expect(res.status).toBe(500);
      const body = await json(res);
      expect(body.errorCode).toBe("ERR_CONFIGURATION_SUBSCRIBE");
      expect(body.message).toContain("no app channel");
    } finally {
      await noApp.stop();
    }
  });
});
