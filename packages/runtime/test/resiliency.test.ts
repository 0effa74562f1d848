// Resiliency policies applied to component calls: retries (attempt counts and waits), no retry of
// a write carrying an ETag, timeouts per attempt, Dapr's default policies, and a circuit breaker
// through closed -> open -> half-open -> closed. The broker outage case runs against a real Redis
// in packages/redis/test/resiliency.test.ts.
import * as grpc from "@grpc/grpc-js";
import { silentLogger } from "@outrig/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import { createRegistry, type Sidecar, startSidecar } from "../src/index.ts";
import { flaky, manifest as flakyManifest } from "./fixtures/flaky-store.ts";
import { fakeApp, until } from "./helpers.ts";

const started: Sidecar[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
beforeEach(() => {
  Object.assign(flaky, { down: false, failNext: 0, calls: 0, delayMs: 0 });
});

const STORE = (name: string) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: state.flaky
  version: v1
`;

async function sidecarWith(resiliency: string, stores = ["statestore"]): Promise<Sidecar> {
  const s = await startSidecar({
    appId: "resilient",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [flakyManifest] }),
    resources: [...stores.map(STORE), resiliency].join("---\n"),
  });
  started.push(s);
  return s;
}

const RETRIES = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: retries
spec:
  policies:
    timeouts:
      short: 100ms
    retries:
      threeTimes:
        policy: constant
        duration: 50ms
        maxRetries: 3
  targets:
    components:
      statestore:
        outbound:
          retry: threeTimes
          timeout: short
`;

const get = (s: Sidecar, store = "statestore") => fetch(`${s.url}/v1.0/state/${store}/k`);
const save = (s: Sidecar, item: Record<string, unknown>, store = "statestore") =>
  fetch(`${s.url}/v1.0/state/${store}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ key: "k", value: "v", ...item }]),
  });

describe("retry policies on component calls", () => {
  it("retries a failing call by the policy: a success after two failures is three attempts", async () => {
    const s = await sidecarWith(RETRIES);
    flaky.failNext = 2;
    const began = Date.now();
    expect((await get(s)).status).toBe(204);
    expect(flaky.calls).toBe(3);
    // Two waits of 50 ms; the bound above only rules out a hang, it is no benchmark.
    expect(Date.now() - began).toBeGreaterThanOrEqual(95);
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it("gives up after maxRetries: 1 + 3 attempts, then Dapr's error", async () => {
    const s = await sidecarWith(RETRIES);
    flaky.down = true;
    const res = await get(s);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_STATE_GET");
    expect(flaky.calls).toBe(4);
  });

  it("never retries a write carrying an ETag; the same write without one is retried", async () => {
    const s = await sidecarWith(RETRIES);
    flaky.down = true;
    expect((await save(s, { etag: "1" })).status).toBe(500);
    expect(flaky.calls).toBe(1);
    flaky.calls = 0;
    expect((await save(s, {})).status).toBe(500);
    expect(flaky.calls).toBe(4);
  });

  it("times out each attempt by the target's timeout policy", async () => {
    const s = await sidecarWith(RETRIES);
    flaky.delayMs = 3000;
    const began = Date.now();
    const res = await get(s);
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).toContain("timed out after 100ms");
    expect(flaky.calls).toBe(4);
    // Four attempts cut at 100 ms plus three 50 ms waits (0.55 s): far under one full 3 s call,
    // with room for a loaded machine.
    expect(Date.now() - began).toBeLessThan(3000);
  });

  it("applies DefaultRetryPolicy to a component no target names", async () => {
    const s = await sidecarWith(
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: defaults
spec:
  policies:
    retries:
      DefaultRetryPolicy:
        policy: constant
        duration: 10ms
        maxRetries: 1
`,
      ["other"],
    );
    flaky.down = true;
    expect((await get(s, "other")).status).toBe(500);
    expect(flaky.calls).toBe(2);
  });
});

describe("circuit breakers on component calls", () => {
  const BREAKER = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: breaker
spec:
  policies:
    circuitBreakers:
      fragile:
        maxRequests: 1
        timeout: 300ms
        trip: consecutiveFailures >= 3
  targets:
    components:
      statestore:
        outbound:
          circuitBreaker: fragile
`;

  it("opens after the trip expression holds, answers fast without calling the store, then closes after a half-open success", async () => {
    const s = await sidecarWith(BREAKER);
    flaky.down = true;
    for (let i = 0; i < 3; i++) expect((await get(s)).status).toBe(500);
    expect(flaky.calls).toBe(3);

    const refused = await get(s);
    expect(refused.status).toBe(500);
    expect(JSON.stringify(await refused.json())).toContain("circuit breaker fragile");
    expect(flaky.calls).toBe(3);

    // After the open timeout one probe goes through (half-open); it succeeds, so it closes.
    flaky.down = false;
    await new Promise((r) => setTimeout(r, 350));
    expect((await get(s)).status).toBe(204);
    expect(flaky.calls).toBe(4);
    expect((await get(s)).status).toBe(204);
    expect(flaky.calls).toBe(5);
  });

  it("opens again when the half-open probe fails", async () => {
    const s = await sidecarWith(BREAKER);
    flaky.down = true;
    for (let i = 0; i < 3; i++) await get(s);
    await new Promise((r) => setTimeout(r, 350));
    expect((await get(s)).status).toBe(500);
    expect(flaky.calls).toBe(4);
    expect(JSON.stringify(await (await get(s)).json())).toContain("is open");
    expect(flaky.calls).toBe(4);
  });

  it("refuses a trip expression that is not CEL, naming the breaker", async () => {
    await expect(
      sidecarWith(BREAKER.replace("consecutiveFailures >= 3", "consecutiveFailures >>> 3")),
    ).rejects.toThrow("circuit breaker fragile: trip");
  });
});

describe("what is applied and what is warned about", () => {
  it("warns about matching a policy cannot apply, not about applied app and component policies", async () => {
    const warnings: string[] = [];
    const s = await startSidecar({
      appId: "resilient",
      httpPort: 0,
      logger: { ...silentLogger, warn: (_m, f) => warnings.push(String(f?.field)) },
      registry: createRegistry({ manifests: [flakyManifest] }),
      resources: [
        STORE("statestore"),
        `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: mixed
spec:
  policies:
    retries:
      outboundRetry:
        policy: constant
        duration: 10ms
        matching:
          httpStatusCodes: "500-599"
      appRetry:
        policy: exponential
        maxInterval: 1s
        matching:
          httpStatusCodes: "500-599"
          gRPCStatusCodes: "14"
  targets:
    apps:
      checkout:
        retry: appRetry
    components:
      statestore:
        outbound:
          retry: outboundRetry
        inbound:
          retry: outboundRetry
`,
      ].join("---\n"),
    });
    started.push(s);
    // Status matching is read for app targets' answers (HTTP statuses and gRPC codes), not on
    // component calls.
    expect(warnings).toEqual(["spec.policies.retries.outboundRetry.matching.httpStatusCodes"]);
  });
});

describe("inbound policies on deliveries to the app", () => {
  it("retries a message the app answers RETRY by the component's inbound policy, and counts ingress", async () => {
    let answers = 0;
    const app = await fakeApp((r, res) => {
      if (r.url !== "/orders") return void res.writeHead(404).end();
      answers++;
      res.writeHead(answers <= 2 ? 500 : 200).end();
    });
    const s = await startSidecar({
      appId: "inbound",
      httpPort: 0,
      metricsPort: 0,
      appPort: app.port,
      logger: silentLogger,
      resources: `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
    # The broker's own redelivery waits an hour: within the test only the policy retries.
    - name: redeliverInterval
      value: 1h
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: orders
spec:
  pubsubname: pubsub
  topic: orders
  routes:
    default: /orders
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: inbound
spec:
  policies:
    retries:
      redeliver:
        policy: constant
        duration: 20ms
        maxRetries: 5
  targets:
    components:
      pubsub:
        inbound:
          retry: redeliver
`,
    });
    started.push(s);
    try {
      await s.ready();
      const published = await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(published.status).toBe(204);
      await until(() => answers === 3);
      await new Promise((r) => setTimeout(r, 200));
      // Two RETRY answers retried by the policy, then SUCCESS: no redelivery beyond that.
      expect(answers).toBe(3);
      const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
      expect(text).toMatch(
        /dapr_component_pubsub_ingress_count\{[^}]*component="pubsub"[^}]*process_status="success"[^}]*topic="orders"[^}]*\} 1/,
      );
    } finally {
      await app.close();
    }
  });
});

describe("policies on service invocation of an app target", () => {
  // A real HTTP app behind the callee id "flaky": the first `failures` calls answer `status`
  // (after `delayMs`), the rest 200 echoing the body.
  const apps: Awaited<ReturnType<typeof fakeApp>>[] = [];
  const grpcApps: grpc.Server[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    for (const a of grpcApps.splice(0)) a.forceShutdown();
  });
  async function flakyApp(failures: number, status = 500, delayMs = 0) {
    let left = failures;
    const app = await fakeApp((r, res) => {
      if (left-- > 0) {
        setTimeout(
          () => res.writeHead(status, { "content-type": "text/plain" }).end("down"),
          delayMs,
        );
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end(`ok ${r.body}`);
    });
    apps.push(app);
    return app;
  }
  async function caller(resiliency: string, port: number): Promise<Sidecar> {
    const s = await startSidecar({
      appId: "caller",
      httpPort: 0,
      logger: silentLogger,
      resolveApp: async (id) => (id === "flaky" ? { host: "127.0.0.1", port } : undefined),
      resources: resiliency,
    });
    started.push(s);
    return s;
  }
  const invoke = (s: Sidecar) =>
    fetch(`${s.url}/v1.0/invoke/flaky/method/work`, { method: "POST", body: "payload" });
  const APP_RETRY = (matching = "") => `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: app-retry
spec:
  policies:
    retries:
      threeTimes:
        policy: constant
        duration: 20ms
        maxRetries: 3
${matching}
  targets:
    apps:
      flaky:
        retry: threeTimes
`;

  it("retries the app's 500 by the constant policy, resending the body: two failures then a success is three calls", async () => {
    const app = await flakyApp(2);
    const s = await caller(APP_RETRY(), app.port);
    const res = await invoke(s);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok payload");
    expect(app.received.map((r) => r.body)).toEqual(["payload", "payload", "payload"]);
  });

  it("gives up after maxRetries and hands back the app's own last answer: 1 + 3 calls", async () => {
    const app = await flakyApp(10);
    const s = await caller(APP_RETRY(), app.port);
    const res = await invoke(s);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("down");
    expect(app.received).toHaveLength(4);
  });

  it("retries only the statuses matching.httpStatusCodes lists", async () => {
    const matching = `        matching:
          httpStatusCodes: "429,502-504"`;
    const plain = await flakyApp(2, 500);
    const s = await caller(APP_RETRY(matching), plain.port);
    expect((await invoke(s)).status).toBe(500);
    expect(plain.received).toHaveLength(1);

    const busy = await flakyApp(2, 503);
    const t = await caller(APP_RETRY(matching), busy.port);
    expect((await invoke(t)).status).toBe(200);
    expect(busy.received).toHaveLength(3);
  });

  // A real gRPC app (an AppCallback server) behind "flaky": the first `failures` calls fail with
  // `code`, the rest echo the data.
  async function flakyGrpcApp(failures: number, code: grpc.status) {
    const received: string[] = [];
    let left = failures;
    const server = new grpc.Server();
    server.addService(daprProtos().appCallback.dapr.proto.runtime.v1.AppCallback.service, {
      OnInvoke: (
        call: grpc.ServerUnaryCall<{ data?: { value?: Buffer } }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const body = Buffer.from(call.request.data?.value ?? []).toString();
        received.push(body);
        if (left-- > 0) return callback({ code, details: "down" });
        callback(null, { data: { type_url: "", value: Buffer.from(`ok ${body}`) } });
      },
    } as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    grpcApps.push(server);
    const s = await startSidecar({
      appId: "caller",
      httpPort: 0,
      grpcPort: 0,
      logger: silentLogger,
      resolveApp: async (id) =>
        id === "flaky" ? { host: "127.0.0.1", port, protocol: "grpc" } : undefined,
      resources: APP_RETRY(`        matching:
          gRPCStatusCodes: "14"`),
    });
    started.push(s);
    await s.ready();
    return { received, s };
  }

  it("retries a gRPC-served app's failure by the policy, over HTTP /v1.0/invoke", async () => {
    const { received, s } = await flakyGrpcApp(2, grpc.status.UNAVAILABLE);
    const res = await invoke(s);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok payload");
    expect(received).toEqual(["payload", "payload", "payload"]);
  });

  it("retries only the codes matching.gRPCStatusCodes lists, and hands back the app's status", async () => {
    const { received, s } = await flakyGrpcApp(2, grpc.status.INVALID_ARGUMENT);
    const res = await invoke(s);
    // INVALID_ARGUMENT as its HTTP equivalent, after one call: 3 is not in "14".
    expect(res.status).toBe(400);
    expect(received).toHaveLength(1);
  });

  it("retries a gRPC-served app's failure over gRPC InvokeService, and gives up after maxRetries", async () => {
    const { received, s } = await flakyGrpcApp(10, grpc.status.UNAVAILABLE);
    const { dapr } = daprProtos();
    const raw = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) =>
        raw.InvokeService(
          {
            id: "flaky",
            message: { method: "work", data: { type_url: "", value: Buffer.from("payload") } },
          },
          (e) => resolve(e),
        ),
      );
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(received).toHaveLength(4);
    } finally {
      raw.close();
    }
  });

  it("applies the same retry to gRPC InvokeService of an HTTP app", async () => {
    const app = await flakyApp(2);
    const s = await startSidecar({
      appId: "caller",
      httpPort: 0,
      grpcPort: 0,
      logger: silentLogger,
      resolveApp: async (id) =>
        id === "flaky" ? { host: "127.0.0.1", port: app.port } : undefined,
      resources: APP_RETRY(),
    });
    started.push(s);
    await s.ready();
    const { dapr } = daprProtos();
    const raw = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const data = await new Promise<string>((resolve, reject) =>
        raw.InvokeService(
          {
            id: "flaky",
            message: { method: "work", data: { type_url: "", value: Buffer.from("payload") } },
          },
          (error, reply) =>
            error ? reject(error) : resolve(Buffer.from(reply?.data?.value ?? []).toString()),
        ),
      );
      expect(data).toBe("ok payload");
      expect(app.received).toHaveLength(3);
    } finally {
      raw.close();
    }
  });

  it.each([
    ["httpStatusCodes", "5xx"],
    ["gRPCStatusCodes", "17"],
  ])("refuses a malformed matching.%s, naming the policy", async (field, value) => {
    await expect(
      caller(APP_RETRY(`        matching:\n          ${field}: "${value}"`), 1),
    ).rejects.toThrow(`Resiliency retry threeTimes: matching.${field}`);
  });

  it("opens the app's breaker after the trip expression, answers fast without calling the app, then half-opens after its timeout", async () => {
    const app = await flakyApp(3, 500, 150);
    const s = await caller(
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: app-breaker
spec:
  policies:
    circuitBreakers:
      fragile:
        maxRequests: 1
        timeout: 400ms
        trip: consecutiveFailures >= 3
  targets:
    apps:
      flaky:
        circuitBreaker: fragile
`,
      app.port,
    );
    for (let i = 0; i < 3; i++) expect((await invoke(s)).status).toBe(500);
    expect(app.received).toHaveLength(3);

    const began = Date.now();
    const refused = await invoke(s);
    expect(Date.now() - began).toBeLessThan(100);
    expect(refused.status).toBe(500);
    const body = (await refused.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toContain("circuit breaker fragile/app-flaky is open");
    expect(app.received).toHaveLength(3);

    // Past the open timeout one probe reaches the app (half-open); it succeeds, so it closes.
    await new Promise((r) => setTimeout(r, 450));
    expect((await invoke(s)).status).toBe(200);
    expect(app.received).toHaveLength(4);
    expect((await invoke(s)).status).toBe(200);
    expect(app.received).toHaveLength(5);
  });
});
