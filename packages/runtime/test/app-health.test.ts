// App health checks as daprd's: with enableAppHealthCheck the sidecar probes the app, delivers
// pub/sub messages and input binding events only while it is healthy, and reports the settings
// and status in /v1.0/metadata.
import { afterEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { fakeApp, sidecar, until } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const RESOURCES = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: queue
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - name: direction
      value: input, output
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
`;

/** `until` for an async probe (the metadata API). */
async function eventually<T>(probe: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Health {
  healthCheckPath?: string;
  healthProbeInterval: string;
  healthProbeTimeout: string;
  healthThreshold: number;
  status: string;
}

async function appHealth(s: Sidecar): Promise<Health | undefined> {
  const doc = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
    appConnectionProperties: { health?: Health };
  };
  return doc.appConnectionProperties.health;
}

async function healthySidecar() {
  const state = { healthy: true, probes: 0 };
  const app = await fakeApp((r, res) => {
    if (r.url === "/healthz") {
      state.probes++;
      res.writeHead(state.healthy ? 200 : 503).end();
      return;
    }
    res.writeHead(r.url === "/dapr/subscribe" ? 404 : 200).end();
  });
  cleanups.push(() => app.close());
  const s = await sidecar({
    appPort: app.port,
    resources: RESOURCES,
    enableAppHealthCheck: true,
    appHealthProbeInterval: 0.1,
    appHealthProbeTimeout: 200,
    appHealthThreshold: 2,
  });
  cleanups.push(() => s.stop());
  await s.ready();
  const delivered = (path: string) => app.received.filter((r) => r.url === path).length;
  const publish = () =>
    fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
  const sendToBinding = () =>
    fetch(`${s.url}/v1.0/bindings/queue`, {
      method: "POST",
      body: JSON.stringify({ operation: "create", data: { n: 1 } }),
    });
  return { s, app, state, delivered, publish, sendToBinding };
}

describe("app health checks", () => {
  it("reports daprd's health settings and the status in the metadata API", async () => {
    const { s } = await healthySidecar();
    const health = await eventually(async () => {
      const h = await appHealth(s);
      return h?.status === "healthy" ? h : undefined;
    });
    expect(health).toEqual({
      healthCheckPath: "/healthz",
      healthProbeInterval: "0.1s",
      healthProbeTimeout: "200ms",
      healthThreshold: 2,
      status: "healthy",
    });
  });

  it("stops pub/sub and input binding deliveries while the app is unhealthy and resumes them", async () => {
    const { s, state, delivered, publish, sendToBinding } = await healthySidecar();
    await eventually(async () => (await appHealth(s))?.status === "healthy" || undefined);
    expect((await publish()).status).toBe(204);
    expect((await sendToBinding()).status).toBe(204);
    await until(() => delivered("/orders") === 1 && delivered("/queue") === 1);

    state.healthy = false;
    await eventually(async () => (await appHealth(s))?.status === "unhealthy" || undefined);
    expect((await publish()).status).toBe(204);
    expect((await sendToBinding()).status).toBe(204);
    // Probes go on at the interval while nothing is delivered.
    const probes = state.probes;
    await until(() => state.probes >= probes + 3);
    expect(delivered("/orders")).toBe(1);
    expect(delivered("/queue")).toBe(1);

    state.healthy = true;
    await eventually(async () => (await appHealth(s))?.status === "healthy" || undefined);
    expect((await publish()).status).toBe(204);
    expect((await sendToBinding()).status).toBe(204);
    await until(() => delivered("/orders") === 2 && delivered("/queue") === 2);
  });

  it("needs threshold failures in a row before the app counts as unhealthy", async () => {
    const { s, state } = await healthySidecar();
    await eventually(async () => (await appHealth(s))?.status === "healthy" || undefined);
    state.healthy = false;
    const probes = state.probes;
    await until(() => state.probes >= probes + 1);
    // One failure (threshold 2) changes nothing yet; the second does.
    expect((await appHealth(s))?.status).toBe("healthy");
    await eventually(async () => (await appHealth(s))?.status === "unhealthy" || undefined);
    expect(state.probes).toBeGreaterThanOrEqual(probes + 2);
  });

  it("without enableAppHealthCheck the app is never probed and metadata has no health", async () => {
    const app = await fakeApp((r, res) => res.writeHead(r.url === "/healthz" ? 500 : 404).end());
    cleanups.push(() => app.close());
    const s = await sidecar({ appPort: app.port, appHealthCheckPath: "/healthz" });
    cleanups.push(() => s.stop());
    await s.ready();
    await new Promise((r) => setTimeout(r, 300));
    expect(app.received.filter((r) => r.url === "/healthz")).toHaveLength(0);
    expect(await appHealth(s)).toBeUndefined();
  });

  it("refuses a non-positive probe interval by name", async () => {
    await expect(
      sidecar({ enableAppHealthCheck: true, appHealthProbeInterval: 0 }),
    ).rejects.toThrow("appHealthProbeInterval must be a positive number");
  });
});
