// Resiliency policies applied to component calls: retries (attempt counts and waits), no retry of
// a write carrying an ETag, timeouts per attempt, Dapr's default policies, and a circuit breaker
// through closed -> open -> half-open -> closed. The broker outage case runs against a real Redis
// in packages/redis/test/resiliency.test.ts.
import { silentLogger } from "@outrig/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
  it("warns about app retries by field, not about applied component policies", async () => {
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
      appRetry:
        policy: exponential
        maxInterval: 1s
        matching:
          httpStatusCodes: "500-599"
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
    expect(warnings).toEqual([
      "spec.policies.retries.appRetry",
      "spec.targets.apps.checkout.retry",
    ]);
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
