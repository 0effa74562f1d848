// The unmodified @dapr/dapr JS SDK (DaprClient and DaprServer over HTTP) against the sidecar.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpMethod } from "@dapr/dapr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instances } from "./fixtures/test-bindings.ts";
import { STATE_AND_PUBSUB, until } from "./helpers.ts";
import { type SdkApp, startSdkApp } from "./sdk-app.ts";

const APP_ID = "sdk-app";
let app: SdkApp;
let client: SdkApp["client"];
const received: { topic: string; data: unknown }[] = [];
const bindingEvents: unknown[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "outrig-sdk-"));
  const secretsFile = join(dir, "secrets.json");
  await writeFile(secretsFile, JSON.stringify({ db: { password: "pa55" }, apiKey: "k-123" }));
  app = await startSdkApp({
    appId: APP_ID,
    sidecar: {
      resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localsecrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: ${secretsFile}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: queue
spec:
  type: bindings.test-queue
  version: v1
`,
    },
    async register(server) {
      await server.pubsub.subscribe("pubsub", "orders", async (data: unknown) => {
        received.push({ topic: "orders", data });
      });
      await server.pubsub.subscribe("pubsub", "bulk-orders", async (data: unknown) => {
        received.push({ topic: "bulk-orders", data });
      });
      await server.binding.receive("queue", async (data: unknown) => {
        bindingEvents.push(data);
      });
      await server.invoker.listen(
        "hello",
        async (request) => ({ greeting: "hi", body: JSON.parse(request.body ?? "null") }),
        { method: HttpMethod.POST },
      );
    },
  });
  client = app.client;
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe("@dapr/dapr client and server over HTTP", () => {
  it("saves, gets, bulk-gets and deletes state with ETags", async () => {
    await client.state.save("statestore", [
      { key: "k1", value: { name: "Alice" } },
      { key: "k2", value: "text" },
    ]);
    expect(await client.state.get("statestore", "k1")).toEqual({ name: "Alice" });
    expect(await client.state.get("statestore", "missing")).toBe("");
    const bulk = (await client.state.getBulk("statestore", ["k1", "k2", "missing"])) as {
      key: string;
      data?: unknown;
      etag?: string;
    }[];
    expect(bulk.map((b) => [b.key, b.data])).toEqual([
      ["k1", { name: "Alice" }],
      ["k2", "text"],
      ["missing", undefined],
    ]);
    const etag = bulk[0]?.etag as string;
    expect(etag).toBeTruthy();
    const stale = await client.state.save("statestore", [
      { key: "k1", value: { name: "Bob" }, etag: `${etag}9` },
    ]);
    expect(stale.error).toBeDefined();
    const fresh = await client.state.save("statestore", [
      { key: "k1", value: { name: "Bob" }, etag },
    ]);
    expect(fresh.error).toBeUndefined();
    expect(await client.state.get("statestore", "k1")).toEqual({ name: "Bob" });
    const badDelete = await client.state.delete("statestore", "k1", { etag });
    expect(badDelete.error).toBeDefined();
    await client.state.delete("statestore", "k2");
    expect(await client.state.get("statestore", "k2")).toBe("");
  });

  it("runs a state transaction", async () => {
    await client.state.save("statestore", [{ key: "tx-old", value: 1 }]);
    await client.state.transaction("statestore", [
      { operation: "upsert", request: { key: "tx-new", value: { v: 2 } } },
      { operation: "delete", request: { key: "tx-old" } },
    ]);
    expect(await client.state.get("statestore", "tx-new")).toEqual({ v: 2 });
    expect(await client.state.get("statestore", "tx-old")).toBe("");
  });

  it("publishes and the DaprServer subscriber receives the data", async () => {
    const result = await client.pubsub.publish("pubsub", "orders", { orderId: 1 });
    expect(result.error).toBeUndefined();
    const got = await until(() => received.find((r) => r.topic === "orders"));
    expect(got.data).toEqual({ orderId: 1 });
  });

  it("bulk-publishes, with the SDK's entryID spelling", async () => {
    const result = await client.pubsub.publishBulk("pubsub", "bulk-orders", [
      { n: 1 },
      { n: 2 },
      "three",
    ]);
    expect(result.failedMessages).toEqual([]);
    await until(() => received.filter((r) => r.topic === "bulk-orders").length === 3 || undefined);
    expect(received.filter((r) => r.topic === "bulk-orders").map((r) => r.data)).toEqual(
      expect.arrayContaining([{ n: 1 }, { n: 2 }, "three"]),
    );
  });

  it("invokes the app through the sidecar", async () => {
    const answer = await client.invoker.invoke(APP_ID, "hello", HttpMethod.POST, { a: 1 });
    expect(answer).toEqual({ greeting: "hi", body: { a: 1 } });
  });

  it("sends to an output binding and receives from the input binding", async () => {
    const echoed = await client.binding.send("queue", "echo", { ping: true });
    expect(echoed).toEqual({ ping: true });
    await client.binding.send("queue", "create", { hello: "world" });
    await until(() => bindingEvents.length > 0 || undefined);
    expect(bindingEvents[0]).toEqual({ hello: "world" });
    const queue = instances.at(-1);
    expect(queue?.failures).toEqual([]);
  });

  it("reads secrets from secretstores.local.file", async () => {
    expect(await client.secret.get("localsecrets", "apiKey")).toEqual({ apiKey: "k-123" });
    expect(await client.secret.get("localsecrets", "db:password")).toEqual({
      "db:password": "pa55",
    });
    const bulk = (await client.secret.getBulk("localsecrets")) as Record<
      string,
      Record<string, string>
    >;
    expect(bulk.apiKey).toEqual({ apiKey: "k-123" });
  });

  it("reads and sets metadata", async () => {
    await client.metadata.set("cliPID", "1234");
    const meta = await client.metadata.get();
    expect(meta.id).toBe(APP_ID);
    expect(meta.extended.cliPID).toBe("1234");
    expect(meta.components.map((c) => c.name).sort()).toEqual([
      "localsecrets",
      "pubsub",
      "queue",
      "statestore",
      "strictstore",
    ]);
    const subscriptions = (meta as unknown as { subscriptions: { topic: string }[] }).subscriptions;
    expect(subscriptions.map((sub) => sub.topic).sort()).toEqual(["bulk-orders", "orders"]);
    expect(await client.health.isHealthy()).toBe(true);
  });
});
