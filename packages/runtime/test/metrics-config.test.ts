// The Configuration's metrics fields on real sidecars, read by scraping their metrics port:
// `rules` rewrite the labels of the metric they name (and no other), `http.pathMatching` makes a
// matched path its pattern (an unmatched one its raw path with increased cardinality, daprd's
// catch-all `_` without), `http.excludeVerbs` empties `method`, and `recordErrorCodes` counts each
// API error code in dapr_error_code_total by app, category and code, over HTTP and gRPC.
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { pathMatcher } from "../src/metrics/path-matching.ts";
import { STATE_AND_PUBSUB, sidecar } from "./helpers.ts";

const withMetrics = (metrics: string) => `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: metrics
spec:
  metrics:
${metrics}
`;

async function scrape(s: Sidecar): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Every sample of `name`, as its label set (in text form) and value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(name.length + 1, line.lastIndexOf("}"));
    out.set(labels, Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

/** The value of the one sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const [body, value] of samples(text, name))
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return value;
  return undefined;
}

let high: Sidecar;
let low: Sidecar;

beforeAll(async () => {
  [high, low] = await Promise.all([
    sidecar({
      appId: "metrics-high",
      metricsPort: 0,
      resources: withMetrics(`    recordErrorCodes: true
    rules:
      - name: dapr_http_server_request_count
        labels:
          - name: path
            regex:
              "/v1.0/state/": "^/v1\\\\.0/state/.+"
    http:
      increasedCardinality: true
      excludeVerbs: true
      pathMatching:
        - /v1.0/secrets/{store}/{key}`),
    }),
    sidecar({
      appId: "metrics-low",
      metricsPort: 0,
      resources: withMetrics(`    http:
      pathMatching:
        - /v1.0/secrets/{store}/{key}`),
    }),
  ]);
}, 30_000);

afterAll(async () => {
  await Promise.all([high?.stop(), low?.stop()]);
});

describe("metrics configuration", () => {
  it("labels a matched path with its pattern, and leaves method empty with excludeVerbs", async () => {
    for (const key of ["a", "b"])
      await (await fetch(`${high.url}/v1.0/secrets/nostore/${key}`)).arrayBuffer();
    await (await fetch(`${high.url}/v1.0/metadata`)).arrayBuffer();
    const text = await scrape(high);
    const responses = samples(text, "dapr_http_server_response_count");
    const secrets = [...responses].filter(([l]) => l.includes("/v1.0/secrets/"));
    expect(secrets.map(([l]) => /path="([^"]*)"/.exec(l)?.[1])).toEqual([
      "/v1.0/secrets/{store}/{key}",
    ]);
    expect(secrets[0]?.[1]).toBe(2);
    // Unmatched, with increased cardinality: the raw path.
    expect(sample(text, "dapr_http_server_response_count", { path: "/v1.0/metadata" })).toBe(1);
    // excludeVerbs: no HTTP server sample has a method.
    const methods = [...responses.keys()].map((l) => /method="([^"]*)"/.exec(l)?.[1]);
    expect(methods.length).toBeGreaterThan(0);
    expect(new Set(methods)).toEqual(new Set([""]));
  });

  it("rewrites a label only in the metric its rule names", async () => {
    for (const key of ["k1", "k2", "k3"])
      await (await fetch(`${high.url}/v1.0/state/statestore/${key}`)).arrayBuffer();
    const text = await scrape(high);
    const requests = samples(text, "dapr_http_server_request_count");
    const statePaths = [...requests.keys()]
      .map((l) => /path="([^"]*)"/.exec(l)?.[1] ?? "")
      .filter((p) => p.startsWith("/v1.0/state"));
    expect(statePaths).toEqual(["/v1.0/state/"]);
    expect(sample(text, "dapr_http_server_request_count", { path: "/v1.0/state/" })).toBe(3);
    // The response count has no rule: its paths stay raw.
    for (const key of ["k1", "k2", "k3"])
      expect(
        sample(text, "dapr_http_server_response_count", { path: `/v1.0/state/statestore/${key}` }),
      ).toBe(1);
  });

  it("counts API error codes by category over HTTP and gRPC (recordErrorCodes)", async () => {
    const res = await fetch(`${high.url}/v1.0/state/nosuch/k`);
    const { errorCode } = (await res.json()) as { errorCode: string };
    expect(errorCode).toBe("ERR_STATE_STORE_NOT_FOUND");
    const { dapr } = daprProtos();
    const raw = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${high.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & Record<string, (...a: unknown[]) => void>;
    try {
      const code = await new Promise<number>((resolve) =>
        raw.GetState?.(
          { storeName: "nosuch", key: "k" },
          new grpc.Metadata(),
          (e: grpc.ServiceError | null) => resolve(e?.code ?? 0),
        ),
      );
      expect(code).not.toBe(0);
    } finally {
      raw.close();
    }
    const text = await scrape(high);
    expect(
      sample(text, "dapr_error_code_total", {
        app_id: "metrics-high",
        category: "state",
        error_code: "ERR_STATE_STORE_NOT_FOUND",
      }),
    ).toBe(2);
    // The secrets calls above failed with a secret-store code, filed under "secret".
    const secret = [...samples(text, "dapr_error_code_total").keys()].filter((l) =>
      l.includes('category="secret"'),
    );
    expect(secret.length).toBe(1);
  });

  it("files an unmatched path under daprd's catch-all without increased cardinality", async () => {
    await (await fetch(`${low.url}/v1.0/secrets/nostore/x`)).arrayBuffer();
    await (await fetch(`${low.url}/v1.0/metadata`)).arrayBuffer();
    const text = await scrape(low);
    expect(
      sample(text, "dapr_http_server_response_count", { path: "/v1.0/secrets/{store}/{key}" }),
    ).toBe(1);
    expect(sample(text, "dapr_http_server_response_count", { path: "_", method: "GET" })).toBe(1);
    // The method is kept, and without recordErrorCodes there is no error code metric.
    expect(text).not.toContain("dapr_error_code_total");
  });

  it("refuses to start on a rule whose regex does not compile, naming it", async () => {
    await expect(
      sidecar({
        appId: "metrics-bad",
        metricsPort: 0,
        resources: withMetrics(`    rules:
      - name: dapr_http_server_request_count
        labels:
          - name: path
            regex:
              "x": "(unclosed"`),
      }),
    ).rejects.toThrow(/spec\.metrics\.rules\[0\]\.labels\[0\]\.regex "x"/);
  });
});

describe("pathMatching patterns", () => {
  it("read as Go's ServeMux does: segments, remainders, subtrees, the most specific first", () => {
    const match = pathMatcher(
      ["/orders/{id}", "/orders/new", "/files/{path...}", "/static/", "/users/{id}/items"],
      false,
    );
    expect(
      [
        "/orders/17",
        "/orders/new",
        "/orders/17/lines",
        "/orders/17/",
        "/files/a/b/c",
        "/static/css/x.css",
        "/users/9/items",
        "/other",
      ].map((p) => match?.(p)),
    ).toEqual([
      "/orders/{id}",
      "/orders/new",
      "_",
      "_",
      "/files/{path...}",
      "/static/",
      "/users/{id}/items",
      "_",
    ]);
    // With increased cardinality an unmatched path keeps its own label; `/` catches everything.
    expect(pathMatcher(["/orders/{id}"], true)?.("/other")).toBeUndefined();
    expect(pathMatcher(["/"], false)?.("/anything/at/all")).toBe("/");
    expect(pathMatcher([], false)).toBeUndefined();
  });
});
