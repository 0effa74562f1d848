// The Configuration API over gRPC: the unmodified @dapr/dapr SDK in the shape of Dapr's
// configuration quickstart (get, subscribeWithKeys, stop), and a plain @grpc/grpc-js client for
// the stream itself (the id first, Alpha1 names, unsubscribe, the stream ending on shutdown).
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import type { MemoryConfigurationStore } from "@outrig/memory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import type { SubscribeConfigurationResponse__Output } from "../src/grpc/generated/dapr/proto/runtime/v1/SubscribeConfigurationResponse.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

const TOKEN = "config-token";
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
let store: MemoryConfigurationStore;
let raw: RawDaprClient;
const logger = { level: LogLevel.Error };

function rawClient(sidecar: Sidecar): RawDaprClient {
  const { dapr } = daprProtos();
  return new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${sidecar.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
}

function meta(token: string | null = TOKEN): grpc.Metadata {
  const m = new grpc.Metadata();
  if (token !== null) m.set("dapr-api-token", token);
  return m;
}

/** Opens a raw subscription stream and records its messages and its end. */
function openStream(
  client: RawDaprClient,
  method: "SubscribeConfiguration" | "SubscribeConfigurationAlpha1",
  request: { storeName: string; keys: string[] },
  token: string | null = TOKEN,
) {
  const call = client[method](request, meta(token));
  const messages: SubscribeConfigurationResponse__Output[] = [];
  const state: { ended: boolean; error?: grpc.ServiceError } = { ended: false };
  call.on("data", (m: SubscribeConfigurationResponse__Output) => messages.push(m));
  call.on("error", (e: grpc.ServiceError) => {
    state.error = e;
    state.ended = true;
  });
  call.on("end", () => {
    state.ended = true;
  });
  return { call, messages, state };
}

function unary<T>(method: keyof RawDaprClient & string, request: object): Promise<T> {
  return new Promise((resolve, reject) =>
    (raw[method] as unknown as (...a: unknown[]) => void).call(
      raw,
      request,
      meta(),
      (e: grpc.ServiceError | null, r: T) => (e ? reject(e) : resolve(r)),
    ),
  );
}

beforeAll(async () => {
  s = await sidecar({ grpcPort: 0, apiToken: TOKEN, resources: CONFIG });
  await s.ready();
  store = s.runtime.configurationStore("configstore") as MemoryConfigurationStore;
  await store.set("orderId1", "101", { version: "1" });
  await store.set("orderId2", "102", { version: "1" });
  raw = rawClient(s);
});
afterAll(async () => {
  raw?.close();
  await s?.stop();
});

describe("@dapr/dapr SDK (gRPC), Dapr's configuration quickstart", () => {
  it("get, subscribeWithKeys sees each change, stop ends the subscription", async () => {
    const client = new DaprClient({
      daprHost: "127.0.0.1",
      daprPort: String(s.grpcPort),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      daprApiToken: TOKEN,
      logger,
    });
    try {
      const config = await client.configuration.get("configstore", ["orderId1", "orderId2"]);
      expect(config.items).toEqual({
        orderId1: { key: "orderId1", value: "101", version: "1", metadata: {} },
        orderId2: { key: "orderId2", value: "102", version: "1", metadata: {} },
      });

      const seen: Record<string, { value: string }>[] = [];
      const stream = await client.configuration.subscribeWithKeys(
        "configstore",
        ["orderId1", "orderId2"],
        async (update) => {
          seen.push(update.items as Record<string, { value: string }>);
        },
      );
      // The SDK opens the stream in the background: write until the first change arrives.
      const changes = ["103", "104", "105"];
      let delivered = false;
      for (let i = 0; i < 50 && !delivered; i++) {
        await store.set("orderId1", "103", { version: "2" });
        await new Promise((r) => setTimeout(r, 50));
        delivered = seen.length > 0;
      }
      for (const v of changes.slice(1)) await store.set("orderId1", v, { version: v });
      await until(() => (seen.at(-1)?.orderId1?.value === "105" ? true : undefined));
      const values = seen.map((u) => u.orderId1?.value);
      expect(values.slice(-2)).toEqual(["104", "105"]);
      await stream.stop();
      const count = seen.length;
      await store.set("orderId1", "after stop", { version: "9" });
      await new Promise((r) => setTimeout(r, 300));
      expect(seen).toHaveLength(count);
    } finally {
      await client.stop().catch(() => undefined);
    }
  });

  it("in HTTP mode the SDK does not offer configuration (its own HTTPNotSupportedError, before any call)", async () => {
    const client = new DaprClient({
      daprHost: "127.0.0.1",
      daprPort: String(s.httpPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      daprApiToken: TOKEN,
      logger,
    });
    await expect(client.configuration.get("configstore", ["orderId2"])).rejects.toThrow(
      /not supported/i,
    );
    // The same request through the sidecar's HTTP API (what an HTTP client sends) works.
    const res = await fetch(`${s.url}/v1.0/configuration/configstore?key=orderId2`, {
      headers: { "dapr-api-token": TOKEN },
    });
    expect(await res.json()).toEqual({ orderId2: { value: "102", version: "1", metadata: {} } });
  });
});

describe("gRPC methods", () => {
  it("GetConfiguration and GetConfigurationAlpha1: named keys, missing ones absent; no keys: all", async () => {
    for (const method of ["GetConfiguration", "GetConfigurationAlpha1"] as const) {
      const named = await unary<{ items: Record<string, unknown> }>(method, {
        storeName: "configstore",
        keys: ["orderId2", "nope"],
      });
      expect(named.items).toEqual({ orderId2: { value: "102", version: "1", metadata: {} } });
      const all = await unary<{ items: Record<string, unknown> }>(method, {
        storeName: "configstore",
      });
      expect(Object.keys(all.items)).toEqual(expect.arrayContaining(["orderId1", "orderId2"]));
    }
  });

  it("an unknown store is INVALID_ARGUMENT naming it", async () => {
    const error = await unary("GetConfiguration", { storeName: "nostore", keys: [] }).catch(
      (e: grpc.ServiceError) => e,
    );
    expect((error as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((error as grpc.ServiceError).details).toBe("configuration store nostore not found");
  });

  it("SubscribeConfiguration(Alpha1): the first message carries the id and no items; changes follow in order; Unsubscribe ends the stream", async () => {
    for (const [method, off] of [
      ["SubscribeConfiguration", "UnsubscribeConfiguration"],
      ["SubscribeConfigurationAlpha1", "UnsubscribeConfigurationAlpha1"],
    ] as const) {
      const key = `${method}-key`;
      const sub = openStream(raw, method, { storeName: "configstore", keys: [key] });
      await until(() => (sub.messages.length > 0 ? true : undefined));
      const id = sub.messages[0]?.id as string;
      expect(id).toMatch(/.+/);
      expect(sub.messages[0]?.items).toEqual({});
      for (let i = 1; i <= 5; i++) await store.set(key, `v${i}`, { version: String(i) });
      await until(() => (sub.messages.length === 6 ? true : undefined));
      expect(sub.messages.slice(1).map((m) => m.items[key]?.value)).toEqual([
        "v1",
        "v2",
        "v3",
        "v4",
        "v5",
      ]);
      expect(new Set(sub.messages.map((m) => m.id))).toEqual(new Set([id]));

      const done = await unary<{ ok: boolean; message: string }>(off, {
        storeName: "configstore",
        id,
      });
      expect(done).toEqual({ ok: true, message: "" });
      await until(() => (sub.state.ended ? true : undefined));
      expect(sub.state.error).toBeUndefined();
      const again = await unary<{ ok: boolean; message: string }>(off, {
        storeName: "configstore",
        id,
      });
      expect(again.ok).toBe(false);
      expect(again.message).toContain(id);
    }
  });

  it("cancelling the stream ends the subscription (unsubscribe then finds nothing)", async () => {
    const sub = openStream(raw, "SubscribeConfiguration", { storeName: "configstore", keys: [] });
    await until(() => (sub.messages.length > 0 ? true : undefined));
    const id = sub.messages[0]?.id as string;
    sub.call.cancel();
    await new Promise((r) => setTimeout(r, 200));
    const done = await unary<{ ok: boolean }>("UnsubscribeConfiguration", {
      storeName: "configstore",
      id,
    });
    expect(done.ok).toBe(false);
  });

  it("without a valid token the stream is UNAUTHENTICATED; an unknown store ends it INVALID_ARGUMENT", async () => {
    const bad = openStream(
      raw,
      "SubscribeConfiguration",
      { storeName: "configstore", keys: [] },
      "wrong",
    );
    await until(() => (bad.state.ended ? true : undefined));
    expect(bad.state.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const unknown = openStream(raw, "SubscribeConfiguration", { storeName: "nostore", keys: [] });
    await until(() => (unknown.state.ended ? true : undefined));
    expect(unknown.state.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.messages).toEqual([]);
  });

  it("a sidecar shutdown ends open subscription streams", async () => {
    const own = await sidecar({ grpcPort: 0, resources: CONFIG, gracefulShutdownSeconds: 1 });
    const client = rawClient(own);
    try {
      const sub = openStream(
        client,
        "SubscribeConfiguration",
        { storeName: "configstore", keys: [] },
        null,
      );
      await until(() => (sub.messages.length > 0 ? true : undefined));
      await own.stop();
      await until(() => (sub.state.ended ? true : undefined));
      expect(sub.state.error).toBeUndefined();
    } finally {
      client.close();
      await own.stop();
    }
  });
});
