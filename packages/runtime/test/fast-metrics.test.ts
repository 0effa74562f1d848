// The fast series (fast-metrics.ts) print exactly what prom-client's own Counter and Histogram
// print for the same observations: names, HELP/TYPE, label order and escaping, cumulative
// buckets with `+Inf`, `_sum` and `_count`, series order, and a relabel that merges two raw
// label sets into one series. The JSON form (`getMetricsAsJSON`) matches too.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FastCounter, FastHistogram, type Labels } from "../src/metrics/fast-metrics.ts";
import { SidecarMetrics } from "../src/metrics/sidecar-metrics.ts";

const names = ["app_id", "method", "path", "status"] as const;
type Name = (typeof names)[number];
const buckets = [1, 2, 5, 10, 100];

/** The rule under test: order ids in a path become `{id}`. */
const relabel = (l: Labels): Labels => ({ ...l, path: (l.path ?? "").replace(/\d+/g, "{id}") });

const calls: [string, string, string, number][] = [
  ["GET", "/orders/1", "200", 0.4],
  ["GET", "/orders/2", "200", 2],
  ["POST", 'a "quoted" \\ path\nwith a newline', "500", 7.25],
  ["GET", "/orders/3", "200", 1000],
  ["GET", "/health", "204", 5],
];

async function pair(): Promise<[Registry, Registry]> {
  const plain = new Registry();
  const fast = new Registry();
  const counter = { name: "dapr_test_count", help: "A count.", labelNames: [...names] };
  const histogram = {
    name: "dapr_test_latency",
    help: "A latency.",
    labelNames: [...names],
    buckets,
  };
  const c = new Counter<Name>({ ...counter, registers: [plain] });
  const h = new Histogram<Name>({ ...histogram, registers: [plain] });
  const fc = new FastCounter<Name>({ ...counter, registers: [fast] }, relabel);
  const fh = new FastHistogram<Name>({ ...histogram, registers: [fast] }, relabel);
  for (const [method, path, status, ms] of calls) {
    const labels = relabel({ app_id: "app", method, path, status });
    c.inc(labels);
    h.observe(labels, ms);
    fc.series("app", method, path, status).inc();
    fh.series("app", method, path, status).observe(ms);
  }
  // The labels-object form prom-client callers use lands in the same series.
  c.inc(relabel({ app_id: "app", method: "GET", path: "/orders/9", status: "200" }), 2);
  fc.inc({ app_id: "app", method: "GET", path: "/orders/9", status: "200" }, 2);
  h.observe(relabel({ app_id: "app", method: "GET", path: "/orders/9", status: "200" }), 3);
  fh.observe({ app_id: "app", method: "GET", path: "/orders/9", status: "200" }, 3);
  return [plain, fast];
}

describe("fast metrics", () => {
  it("print what prom-client prints for the same observations, relabelled", async () => {
    const [plain, fast] = await pair();
    const text = await fast.metrics();
    expect(text).toBe(await plain.metrics());
    expect(text).toContain(
      'dapr_test_count{app_id="app",method="GET",path="/orders/{id}",status="200"} 5',
    );
    expect(text).toContain(
      'dapr_test_latency_bucket{le="+Inf",app_id="app",method="GET",path="/orders/{id}",status="200"} 4',
    );
    expect(await fast.getMetricsAsJSON()).toEqual(await plain.getMetricsAsJSON());
  });

  it("print nothing for a metric without observations, and forget on reset", async () => {
    const [plain, fast] = await pair();
    plain.resetMetrics();
    fast.resetMetrics();
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.metrics()).not.toContain("dapr_test_count{");
  });

  it("SidecarMetrics prints daprd's names and buckets with a rule applied", async () => {
    const m = new SidecarMetrics("app", "ns", {
      rules: [
        {
          name: "dapr_http_server_request_count",
          labels: [{ name: "path", replacements: [{ regex: /\/\d+$/, replacement: "/{id}" }] }],
        },
      ],
    });
    m.httpServer("GET", "/v1.0/state/s/1", 200, 0.5, 0, 10);
    m.httpServer("GET", "/v1.0/state/s/2", 200, 3, 0, 2048);
    m.operation("state", "s", "get", true, 0.2);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'dapr_http_server_request_count{app_id="app",method="GET",path="/v1.0/state/s/{id}"} 2',
    );
    // Only the metric the rule names is rewritten.
    expect(text).toContain(
      'dapr_http_server_response_count{app_id="app",method="GET",path="/v1.0/state/s/1",status="200"} 1',
    );
    expect(text).toContain(
      'dapr_http_server_latency_bucket{le="1",app_id="app",method="GET",path="/v1.0/state/s/1",status="200"} 1',
    );
    expect(text).toContain('dapr_http_server_latency_bucket{le="100000",');
    expect(text).toContain('dapr_http_server_response_bytes_bucket{le="1024",app_id="app"} 1');
    expect(text).toContain('dapr_http_server_response_bytes_bucket{le="4096",app_id="app"} 2');
    expect(text).toContain('dapr_http_server_response_bytes_sum{app_id="app"} 2058');
    expect(text).toContain(
      'dapr_component_state_count{app_id="app",component="s",namespace="ns",operation="get",success="true"} 1',
    );
  });
});
