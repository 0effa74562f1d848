// Metrics: daprd's Prometheus names and labels on --metrics-port, checked by reading the endpoint
// and by a real Prometheus (Debian's `prometheus`) scraping the sidecar and answering PromQL.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { freePort, sidecar } from "./helpers.ts";

async function scrape(s: Sidecar): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample line, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("metrics endpoint", () => {
  let s: Sidecar;
  beforeAll(async () => {
    s = await sidecar({ appId: "metered", metricsPort: 0 });
  });
  afterAll(() => s?.stop());

  it("counts HTTP API requests by route template, method and status, and their latency", async () => {
    const save = await fetch(`${s.url}/v1.0/state/statestore`, {
      method: "POST",
      body: JSON.stringify([{ key: "k1", value: { n: 1 } }]),
    });
    expect(save.status).toBe(204);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${s.url}/v1.0/state/statestore/k1`)).status).toBe(200);
    }
    expect((await fetch(`${s.url}/v1.0/state/nosuch/k1`)).status).toBe(400);
    const text = await scrape(s);
    const route = { app_id: "metered", path: "/v1.0/state/:store/:key", method: "GET" };
    expect(sample(text, "dapr_http_server_request_count", route)).toBe(4);
    expect(sample(text, "dapr_http_server_response_count", { ...route, status: "200" })).toBe(3);
    expect(sample(text, "dapr_http_server_response_count", { ...route, status: "400" })).toBe(1);
    expect(
      sample(text, "dapr_http_server_latency_count", {
        app_id: "metered",
        method: "POST",
        path: "/v1.0/state/:store",
        status: "204",
      }),
    ).toBe(1);
  });

  it("counts state and publish operations per component, and components loaded", async () => {
    const published = await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(published.status).toBe(204);
    const text = await scrape(s);
    const state = { app_id: "metered", component: "statestore", success: "true" };
    expect(sample(text, "dapr_component_state_count", { ...state, operation: "get" })).toBe(3);
    // One item saved is a `set`, as daprd calls the store.
    expect(sample(text, "dapr_component_state_count", { ...state, operation: "set" })).toBe(1);
    expect(
      sample(text, "dapr_component_pubsub_egress_count", {
        app_id: "metered",
        component: "pubsub",
        topic: "orders",
        success: "true",
      }),
    ).toBe(1);
    expect(
      sample(text, "dapr_runtime_component_loaded", { app_id: "metered", success: "true" }),
    ).toBe(3);
    expect(
      sample(text, "dapr_runtime_component_init_total", { app_id: "metered", component: "pubsub" }),
    ).toBe(1);
  });

  it("counts gRPC API calls by full method name and status code", async () => {
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const get = (store: string) =>
        new Promise<grpc.ServiceError | null>((resolve) =>
          client.GetState({ storeName: store, key: "k1" }, (error) => resolve(error)),
        );
      expect(await get("statestore")).toBeNull();
      expect((await get("nosuch"))?.code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
    const text = await scrape(s);
    const method = "/dapr.proto.runtime.v1.Dapr/GetState";
    expect(
      sample(text, "dapr_grpc_io_server_completed_rpcs", {
        grpc_server_method: method,
        grpc_server_status: "OK",
      }),
    ).toBe(1);
    expect(
      sample(text, "dapr_grpc_io_server_completed_rpcs", {
        grpc_server_method: method,
        grpc_server_status: "INVALID_ARGUMENT",
      }),
    ).toBe(1);
  });

  it("answers 404 off /metrics", async () => {
    expect((await fetch(`http://127.0.0.1:${s.metricsPort}/other`)).status).toBe(404);
  });
});

describe("metrics switched off", () => {
  it("opens no port with enableMetrics: false, nor with a Configuration's spec.metrics.enabled: false", async () => {
    const off = await sidecar({ enableMetrics: false, metricsPort: 0 });
    expect(off.metricsPort).toBeUndefined();
    await off.stop();
    const byConfig = await sidecar({
      metricsPort: 0,
      resources: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: daprConfig
spec:
  metrics:
    enabled: false
`,
    });
    expect(byConfig.metricsPort).toBeUndefined();
    await byConfig.stop();
  });
});

describe("a real Prometheus scraping the sidecar", () => {
  let prometheus: ChildProcess | undefined;
  let dir: string;
  let s: Sidecar;
  let promPort: number;

  beforeAll(async () => {
    s = await sidecar({ appId: "scraped", metricsPort: 0 });
    dir = await mkdtemp(join(tmpdir(), "outrig-prometheus-"));
    promPort = await freePort();
    await writeFile(
      join(dir, "prometheus.yml"),
      `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: outrig
    static_configs:
      - targets: ["127.0.0.1:${s.metricsPort}"]
`,
    );
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: "ignore" },
    );
    prometheus.once("error", (error) => {
      throw new Error(`cannot start Debian's prometheus: ${error.message}`);
    });
  }, 30_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    await s?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a PromQL query for the state gets the test drove", async () => {
    for (let i = 0; i < 5; i++) {
      await fetch(`${s.url}/v1.0/state/statestore/missing-${i}`);
    }
    const query = encodeURIComponent(
      'sum(dapr_component_state_count{app_id="scraped",component="statestore",operation="get"})',
    );
    const deadline = Date.now() + 45_000;
    let value: string | undefined;
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${query}`).catch(
        () => undefined,
      );
      if (res?.ok) {
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        value = body.data.result[0]?.value[1];
        if (value === "5") break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(value).toBe("5");
  }, 60_000);
});

describe("metrics of the newer building blocks", () => {
  it("counts configuration store operations as daprd's dapr_component_configuration_count", async () => {
    const s = await sidecar({
      appId: "configured",
      metricsPort: 0,
      resources: `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: configstore
spec:
  type: configuration.in-memory
  version: v1
`,
    });
    try {
      expect((await fetch(`${s.url}/v1.0/configuration/configstore?key=a`)).status).toBe(200);
      const text = await scrape(s);
      expect(
        sample(text, "dapr_component_configuration_count", {
          app_id: "configured",
          component: "configstore",
          operation: "get",
          success: "true",
        }),
      ).toBe(1);
    } finally {
      await s.stop();
    }
  });
});
