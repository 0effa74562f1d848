// The gRPC API (dapr.proto.runtime.v1.Dapr) with real clients: the unmodified @dapr/dapr SDK in
// gRPC mode (DaprClient; the app is its DaprServer over HTTP), and a plain @grpc/grpc-js client
// for bad input, where each failure must carry Dapr's status and ErrorInfo reason.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpMethod } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaprClient as RawDaprClient } from "../src/grpc/generated/dapr/proto/runtime/v1/Dapr.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";
import { type SdkApp, startSdkApp } from "./sdk-app.ts";

const APP_ID = "grpc-sdk-app";
const TOKEN = "grpc-test-token";
let app: SdkApp;
let s: Sidecar;
let client: SdkApp["client"];
let raw: RawDaprClient;
const received: { topic: string; data: unknown }[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "outrig-grpc-"));
  const secretsFile = join(dir, "secrets.json");
  await writeFile(secretsFile, JSON.stringify({ apiKey: "k-123" }));
  // The app is a DaprServer over HTTP; the client speaks gRPC to the sidecar.
  app = await startSdkApp({
    appId: APP_ID,
    appProtocol: "http",
    clientProtocol: "grpc",
    apiToken: TOKEN,
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
      await server.invoker.listen(
        "hello",
        async (request) => ({ greeting: "hi", body: JSON.parse(request.body ?? "null") }),
        { method: HttpMethod.POST },
      );
    },
  });
  s = app.sidecar;
  client = app.client;
  const { dapr } = daprProtos();
  raw = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${s.grpcPort}`,
    grpc.credentials.createInsecure(),
  );
}, 60_000);

afterAll(async () => {
  raw?.close();
  await app?.stop();
});

/** Calls one raw unary method and returns its error (status, message, ErrorInfo reason). */
async function failure(
  method: keyof RawDaprClient & string,
  request: object,
  token: string | null = TOKEN,
): Promise<{ code: number; details: string; reason: string | undefined }> {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set("dapr-api-token", token);
  const error = await new Promise<grpc.ServiceError | null>((resolve) => {
    (raw[method] as unknown as (...a: unknown[]) => void).call(
      raw,
      request,
      metadata,
      (e: grpc.ServiceError | null) => resolve(e),
    );
  });
  if (!error) throw new Error(`${method} succeeded`);
  const bin = error.metadata.get("grpc-status-details-bin")[0];
  let reason: string | undefined;
  if (bin instanceof Buffer) {
    const { status, errorInfo } = daprProtos();
    const decoded = status.decode(bin) as unknown as {
      details: { type_url: string; value: Uint8Array }[];
    };
    const info = decoded.details.find((d) => d.type_url.endsWith("google.rpc.ErrorInfo"));
    if (info) {
      const e = errorInfo.decode(info.value) as unknown as { reason: string; domain: string };
      expect(e.domain).toBe("dapr.io");
      reason = e.reason;
    }
  }
  return { code: error.code, details: error.details, reason };
}

describe("@dapr/dapr DaprClient over gRPC", () => {
  it("saves, gets, bulk-gets and deletes state with ETags", async () => {
    await client.state.save("statestore", [
      { key: "k1", value: { name: "Alice" } },
      { key: "k2", value: "text" },
    ]);
    expect(await client.state.get("statestore", "k1")).toEqual({ name: "Alice" });
    const bulk = (await client.state.getBulk("statestore", ["k1", "k2", "missing"])) as {
      key: string;
      data?: unknown;
      etag?: string;
    }[];
    expect(bulk.find((b) => b.key === "k1")?.data).toEqual({ name: "Alice" });
    expect(bulk.find((b) => b.key === "k2")?.data).toBe("text");
    const etag = bulk.find((b) => b.key === "k1")?.etag as string;
    expect(etag).toBeTruthy();
    // In gRPC mode the SDK throws the sidecar's ABORTED instead of returning an error.
    await expect(
      client.state.save("statestore", [{ key: "k1", value: { name: "Bob" }, etag: `${etag}9` }]),
    ).rejects.toThrow(/aborted/);
    expect(await client.state.get("statestore", "k1")).toEqual({ name: "Alice" });
    const fresh = await client.state.save("statestore", [
      { key: "k1", value: { name: "Bob" }, etag },
    ]);
    expect(fresh.error).toBeUndefined();
    expect(await client.state.get("statestore", "k1")).toEqual({ name: "Bob" });
    await client.state.delete("statestore", "k2");
    expect(await client.state.get("statestore", "k2")).toBe("");
  });

  it("runs a state transaction and a query", async () => {
    await client.state.save("statestore", [{ key: "tx-old", value: 1 }]);
    await client.state.transaction("statestore", [
      // The SDK's gRPC transaction sends a value as UTF-8 text (it takes strings only).
      {
        operation: "upsert",
        request: { key: "tx-new", value: JSON.stringify({ v: 2, kind: "q" }) },
      },
      { operation: "delete", request: { key: "tx-old" } },
    ]);
    expect(await client.state.get("statestore", "tx-new")).toEqual({ v: 2, kind: "q" });
    expect(await client.state.get("statestore", "tx-old")).toBe("");
    // Over gRPC a value is bytes; saved with contentType application/json it is JSON the query sees.
    await client.state.save("statestore", [
      { key: "q1", value: { kind: "q3", v: 3 }, metadata: { contentType: "application/json" } },
    ]);
    const result = await client.state.query("statestore", {
      filter: { EQ: { kind: "q3" } },
      sort: [],
      page: { limit: 10 },
    });
    // The SDK's gRPC query hands back each item's bytes as they came.
    expect(
      result.results.map((r) => [
        r.key,
        JSON.parse(Buffer.from(r.data as unknown as Uint8Array).toString("utf8")),
      ]),
    ).toEqual([["q1", { kind: "q3", v: 3 }]]);
  });

  it("publishes and bulk-publishes; the app's subscriber receives them", async () => {
    await client.pubsub.publish("pubsub", "orders", { orderId: 1 });
    const got = await until(() => received.find((r) => r.topic === "orders"));
    expect(got.data).toEqual({ orderId: 1 });
    const bulk = await client.pubsub.publishBulk("pubsub", "bulk-orders", [{ n: 1 }, { n: 2 }]);
    expect(bulk.failedMessages).toEqual([]);
    await until(() => received.filter((r) => r.topic === "bulk-orders").length === 2 || undefined);
  });

  it("invokes the HTTP app over gRPC", async () => {
    const answer = await client.invoker.invoke(APP_ID, "hello", HttpMethod.POST, { a: 1 });
    expect(answer).toEqual({ greeting: "hi", body: { a: 1 } });
  });

  it("sends to an output binding", async () => {
    const answer = (await client.binding.send("queue", "echo", { ping: true })) as {
      data: Uint8Array;
    };
    expect(JSON.parse(Buffer.from(answer.data).toString("utf8"))).toEqual({ ping: true });
  });

  it("reads secrets", async () => {
    expect(await client.secret.get("localsecrets", "apiKey")).toEqual({ apiKey: "k-123" });
    const bulk = (await client.secret.getBulk("localsecrets")) as Record<string, unknown>;
    expect(bulk.apiKey).toEqual({ apiKey: "k-123" });
  });

  it("reads and sets metadata, agreeing with /v1.0/metadata", async () => {
    await client.metadata.set("cliPID", "4321");
    const meta = await client.metadata.get();
    expect(meta.id).toBe(APP_ID);
    expect(meta.extended.cliPID).toBe("4321");
    const http = (await (
      await fetch(`${s.url}/v1.0/metadata`, { headers: { "dapr-api-token": TOKEN } })
    ).json()) as { components: { name: string }[]; subscriptions: { topic: string }[] };
    expect(meta.components.map((c) => c.name).sort()).toEqual(
      http.components.map((c) => c.name).sort(),
    );
    // The SDK's gRPC metadata.get drops subscriptions: read them with a plain gRPC client.
    const md = new grpc.Metadata();
    md.set("dapr-api-token", TOKEN);
    const full = await new Promise<{ subscriptions: { topic: string }[] }>((resolve, reject) =>
      raw.GetMetadata({}, md, (e, r) => (e || !r ? reject(e) : resolve(r))),
    );
    expect(full.subscriptions.map((x) => x.topic).sort()).toEqual(
      http.subscriptions.map((x) => x.topic).sort(),
    );
  });
});

describe("bad input over gRPC: Dapr's status and reason, nothing written", () => {
  it("a missing or wrong token is UNAUTHENTICATED", async () => {
    const save = { storeName: "statestore", states: [{ key: "tok", value: Buffer.from("1") }] };
    expect((await failure("SaveState", save, null)).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure("SaveState", save, "wrong")).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await failure("GetMetadata", {}, "wrong")).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await client.state.get("statestore", "tok")).toBe("");
  });

  it("a missing store is INVALID_ARGUMENT DAPR_STATE_NOT_FOUND", async () => {
    const e = await failure("SaveState", {
      storeName: "nope",
      states: [{ key: "x", value: Buffer.from("1") }],
    });
    expect(e).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, reason: "DAPR_STATE_NOT_FOUND" });
    expect(e.details).toContain("nope");
  });

  it("a wrong ETag is ABORTED and the value stays", async () => {
    await client.state.save("statestore", [{ key: "etag-key", value: "v1" }]);
    const e = await failure("SaveState", {
      storeName: "statestore",
      states: [{ key: "etag-key", value: Buffer.from('"v2"'), etag: { value: "999999" } }],
    });
    expect(e.code).toBe(grpc.status.ABORTED);
    expect(await client.state.get("statestore", "etag-key")).toBe("v1");
  });

  it("a malformed transaction is refused whole", async () => {
    const e = await failure("ExecuteStateTransaction", {
      storeName: "statestore",
      operations: [
        { operationType: "upsert", request: { key: "tx-bad-1", value: Buffer.from("1") } },
        { operationType: "explode", request: { key: "tx-bad-2", value: Buffer.from("2") } },
      ],
    });
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toContain("explode");
    expect(await client.state.get("statestore", "tx-bad-1")).toBe("");
  });

  it("an unimplemented method is UNIMPLEMENTED naming the method and its building block", async () => {
    const e = await failure("StartWorkflowBeta1", { workflowComponent: "dapr", workflowName: "w" });
    expect(e.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(e.details).toContain("StartWorkflowBeta1");
    expect(e.details).toContain("workflows");
  });
});

describe("Shutdown over gRPC", () => {
  it("stops the sidecar", async () => {
    const own = await sidecar({ appId: "grpc-shutdown", grpcPort: 0 });
    const { dapr } = daprProtos();
    const c = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${own.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    await new Promise<void>((resolve, reject) =>
      c.Shutdown({}, (e: grpc.ServiceError | null) => (e ? reject(e) : resolve())),
    );
    c.close();
    await until(
      async () =>
        (await fetch(`${own.url}/v1.0/healthz`).catch(() => undefined)) === undefined || undefined,
    ).catch(() => undefined);
    await own.stop();
    await expect(fetch(`${own.url}/v1.0/healthz`)).rejects.toThrow();
  });
});

describe("an app served over gRPC (appProtocol grpc)", () => {
  it("InvokeService reaches the DaprServer's OnInvoke", async () => {
    const seen: unknown[] = [];
    const own = await startSdkApp({
      appId: "grpc-app",
      appProtocol: "grpc",
      sidecar: { appApiToken: "app-token" },
      async register(server) {
        await server.invoker.listen(
          "hello",
          async (request) => {
            seen.push(request.body);
            return { greeting: "hi from grpc", body: JSON.parse(request.body ?? "null") };
          },
          { method: HttpMethod.POST },
        );
      },
    });
    try {
      const answer = await own.client.invoker.invoke("grpc-app", "hello", HttpMethod.POST, {
        a: 2,
      });
      expect(answer).toEqual({ greeting: "hi from grpc", body: { a: 2 } });
      expect(seen).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});
