import { describe, expect, it } from "vitest";
import { sumSamples } from "../src/dashboard/prometheus-text.ts";
import { buildTraces, parseSpans, type Span } from "../src/dashboard/traces.ts";

function span(spanId: string, startTimeMs: number, parentSpanId?: string, appId = "a"): Span {
  return {
    traceId: "t1",
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: spanId,
    kind: "SERVER",
    startTimeMs,
    durationMs: 5,
    appId,
    attributes: {},
    status: "ok",
  };
}

describe("the dashboard's data", () => {
  it('sums a metric over its label sets, skipping the ones asked, with } and \\" in values', () => {
    const text = [
      "# HELP dapr_http_server_request_count Number of HTTP requests started in server.",
      "# TYPE dapr_http_server_request_count counter",
      'dapr_http_server_request_count{app_id="a",method="GET",path="/v1.0/metadata"} 40',
      'dapr_http_server_request_count{app_id="a",method="POST",path="/v1.0/state/:store"} 3',
      'dapr_http_server_request_count{app_id="a",method="POST",path="/x}\\"y"} 2 1700000000000',
      "dapr_http_server_request_count_other 100",
      'dapr_component_pubsub_egress_count{topic="orders"} 7',
    ].join("\n");
    expect(
      sumSamples(
        text,
        ["dapr_http_server_request_count", "dapr_component_pubsub_egress_count", "absent"],
        (labels) => labels.path === "/v1.0/metadata",
      ),
    ).toEqual({
      dapr_http_server_request_count: 5,
      dapr_component_pubsub_egress_count: 7,
      absent: 0,
    });
  });

  it("merges one trace's spans from several sidecars, depth first, a span seen twice once", () => {
    const [trace, ...rest] = buildTraces(
      [
        span("child-b", 30, "root", "b"),
        span("root", 10),
        span("grandchild", 40, "child-b", "b"),
        span("child-a", 20, "root"),
        span("root", 10),
        span("orphan", 50, "evicted"),
      ],
      10,
    );
    expect(rest).toEqual([]);
    expect(trace?.rows.map((r) => [r.spanId, r.depth, r.offsetMs])).toEqual([
      ["root", 0, 0],
      ["child-a", 1, 10],
      ["child-b", 1, 20],
      ["grandchild", 2, 30],
      ["orphan", 0, 40],
    ]);
    expect(trace?.appIds).toEqual(["a", "b"]);
    expect(trace?.durationMs).toBe(45);
  });

  it("drops entries that are not spans, and still shows spans caught in a parent cycle", () => {
    const spans = parseSpans({ spans: [span("x", 1, "y"), span("y", 2, "x"), { spanId: 3 }] });
    expect(spans).toHaveLength(2);
    expect(buildTraces(spans, 5)[0]?.rows.map((r) => r.spanId)).toEqual(["x", "y"]);
    expect(() => parseSpans({ items: [] })).toThrow('no "spans" array');
  });
});
