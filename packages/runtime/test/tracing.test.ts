// Tracing: W3C trace context through the sidecar, daprd's span names and attributes, the span
// buffer behind GET /outrig/v1/spans.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import type { SpanRecord } from "../src/tracing/span-buffer.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

const TRACED = (rate: string) => `${STATE_AND_PUBSUB}---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "${rate}"
`;

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

async function spans(s: Sidecar, query = ""): Promise<SpanRecord[]> {
  const res = await fetch(`${s.url}/outrig/v1/spans${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { spans: SpanRecord[] }).spans;
}

describe("span buffer and HTTP API spans", () => {
  let s: Sidecar;
  let app: Awaited<ReturnType<typeof fakeApp>>;
  beforeAll(async () => {
    app = await fakeApp((r, res) => {
      if (r.url === "/dapr/subscribe") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify([{ pubsubname: "pubsub", topic: "orders", route: "/orders" }]));
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("pong");
    });
    s = await sidecar({ appId: "traced", appPort: app.port, resources: TRACED("1") });
    await s.ready();
  });
  afterAll(async () => {
    await s?.stop();
    await app?.close();
  });

  it("records a state call as daprd names it, a child of the caller's traceparent, and answers its traceparent", async () => {
    const save = await fetch(`${s.url}/v1.0/state/statestore`, {
      method: "POST",
      headers: { traceparent: CALLER, tracestate: "vendor=x" },
      body: JSON.stringify([{ key: "k", value: 1 }]),
    });
    expect(save.status).toBe(204);
    const answered = save.headers.get("traceparent") ?? "";
    expect(answered).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    const [span] = (await spans(s)).filter((x) => x.name === "/v1.0/state/statestore");
    expect(span).toMatchObject({
      traceId: TRACE_ID,
      spanId: answered.split("-")[2],
      parentSpanId: "00f067aa0ba902b7",
      kind: "CLIENT",
      appId: "traced",
      status: "ok",
      attributes: {
        "db.system": "state",
        "db.name": "statestore",
        "db.statement": "POST /v1.0/state/statestore",
        "dapr.protocol": "http",
        "dapr.api": "POST /v1.0/state/statestore",
        "dapr.status_code": "204",
      },
    });
    expect(span?.durationMs).toBeGreaterThanOrEqual(0);
    expect(span?.startTimeMs).toBeGreaterThan(Date.now() - 60_000);
  });

  it("names an invocation CallLocal/<app>/<method> and passes its context to the app", async () => {
    const res = await fetch(`${s.url}/v1.0/invoke/traced/method/ping`, {
      headers: { traceparent: CALLER },
    });
    expect(await res.text()).toBe("pong");
    const received = app.received.at(-1);
    const [span] = (await spans(s)).filter((x) => x.name === "CallLocal/traced/ping");
    expect(span).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: "00f067aa0ba902b7",
      attributes: { "rpc.service": "ServiceInvocation", "net.peer.name": "traced" },
    });
    expect(received?.headers.traceparent).toBe(`00-${TRACE_ID}-${span?.spanId}-01`);
  });

  it("starts a trace when the caller sends none, and marks failed calls as errors", async () => {
    const res = await fetch(`${s.url}/v1.0/state/nosuch/k`);
    expect(res.status).toBe(400);
    const tp = res.headers.get("traceparent") ?? "";
    const [span] = (await spans(s)).filter((x) => x.name === "/v1.0/state/nosuch/k");
    expect(span?.status).toBe("error");
    expect(span?.parentSpanId).toBeUndefined();
    expect(tp).toBe(`00-${span?.traceId}-${span?.spanId}-01`);
  });

  it("carries a publish into the CloudEvent and delivers it under a pubsub/<topic> span", async () => {
    const res = await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: CALLER, tracestate: "k=v" },
      body: "{}",
    });
    expect(res.status).toBe(204);
    const delivered = await until(() => app.received.find((r) => r.url === "/orders"));
    let all: SpanRecord[] = [];
    await waitUntil(
      async () => {
        all = await spans(s);
        return all.some((x) => x.name === "pubsub/orders");
      },
      5000,
      "the delivery span is recorded",
    );
    const publish = all.find((x) => x.name === "/v1.0/publish/pubsub/orders");
    const delivery = all.find((x) => x.name === "pubsub/orders");
    expect(publish).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: "00f067aa0ba902b7",
      attributes: {
        "messaging.system": "pubsub",
        "messaging.destination.name": "orders",
        "messaging.destination_kind": "topic",
      },
    });
    expect(delivery).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: publish?.spanId,
      kind: "CLIENT",
      status: "ok",
      attributes: { "messaging.destination.name": "orders" },
    });
    const event = JSON.parse(delivered.body) as Record<string, string>;
    const published = `00-${TRACE_ID}-${publish?.spanId}-01`;
    expect([event.traceparent, event.traceid, event.tracestate]).toEqual([
      published,
      published,
      "k=v",
    ]);
    expect(delivered.headers.traceparent).toBe(`00-${TRACE_ID}-${delivery?.spanId}-01`);
    expect(delivered.headers.tracestate).toBe("k=v");
  });

  it("traces gRPC API calls as daprd names them and answers grpc-trace-bin", async () => {
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const metadata = new grpc.Metadata();
      metadata.set("traceparent", CALLER);
      const answered = await new Promise<grpc.Metadata>((resolve, reject) => {
        const call = client.GetState({ storeName: "statestore", key: "k" }, metadata, (error) => {
          if (error) reject(error);
        });
        call.on("metadata", resolve);
      });
      const bin = answered.get("grpc-trace-bin")[0] as Buffer;
      const invoked = await new Promise<unknown>((resolve, reject) =>
        client.InvokeService(
          { id: "traced", message: { method: "grpc-ping", httpExtension: { verb: "GET" } } },
          metadata,
          (error: grpc.ServiceError | null, reply: unknown) =>
            error ? reject(error) : resolve(reply),
        ),
      );
      expect(invoked).toBeDefined();
      const all = await spans(s);
      const get = all.find((x) => x.name === "/dapr.proto.runtime.v1.Dapr/GetState");
      expect(get).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: "00f067aa0ba902b7",
        kind: "CLIENT",
        attributes: {
          "dapr.protocol": "grpc",
          "dapr.api": "/dapr.proto.runtime.v1.Dapr/GetState",
          "rpc.service": "Dapr",
          "db.system": "state",
          "db.name": "statestore",
        },
      });
      expect(bin.subarray(2, 18).toString("hex")).toBe(TRACE_ID);
      expect(bin.subarray(19, 27).toString("hex")).toBe(get?.spanId);
      const call = all.find((x) => x.name === "CallLocal/traced/grpc-ping");
      expect(call).toMatchObject({ traceId: TRACE_ID, attributes: { "net.peer.name": "traced" } });
      const received = app.received.find((r) => r.url === "/grpc-ping");
      expect(received?.headers.traceparent).toBe(`00-${TRACE_ID}-${call?.spanId}-01`);
    } finally {
      client.close();
    }
  });

  it("lists the newest spans oldest first with ?limit, refuses a bad limit, and traces no health check", async () => {
    await fetch(`${s.url}/v1.0/healthz`);
    const all = await spans(s);
    expect(all.some((x) => x.name.includes("healthz"))).toBe(false);
    const last2 = await spans(s, "?limit=2");
    expect(last2).toEqual(all.slice(-2));
    for (const i of [1, 2]) {
      expect((all[i]?.startTimeMs ?? 0) >= (all[i - 1]?.startTimeMs ?? 0)).toBe(true);
    }
    const bad = await fetch(`${s.url}/outrig/v1/spans?limit=zero`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("limit");
  });
});

describe("OTLP export", () => {
  it("sends spans through the SDK's OTLP/HTTP exporter with the configured headers", async () => {
    const got: { headers: IncomingMessage["headers"]; body: string }[] = [];
    // A collector stand-in: the exporter's OTLP/HTTP JSON, decoded as a collector would.
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const { port } = collector.address() as AddressInfo;
    const s = await sidecar({
      appId: "otlp-app",
      resources: `${TRACED("1")}    otel:
      endpointAddress: 127.0.0.1:${port}
      protocol: http
      isSecure: false
      headers: "x-collector-token=secret"
`,
    });
    try {
      expect((await fetch(`${s.url}/v1.0/state/statestore/k`)).status).toBe(204);
    } finally {
      await s.stop(); // flushes the batch
      collector.close();
    }
    expect(got).toHaveLength(1);
    expect(got[0]?.headers["x-collector-token"]).toBe("secret");
    const body = JSON.parse(got[0]?.body ?? "{}") as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: { name: string; traceId: string }[] }[];
      }[];
    };
    const [resourceSpans] = body.resourceSpans;
    expect(
      resourceSpans?.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue,
    ).toBe("otlp-app");
    expect(resourceSpans?.scopeSpans.flatMap((x) => x.spans.map((sp) => sp.name))).toEqual([
      "/v1.0/state/statestore/k",
    ]);
  });
});

describe("tracing off", () => {
  it("makes no spans without a tracing section, or at samplingRate 0", async () => {
    for (const resources of [STATE_AND_PUBSUB, TRACED("0")]) {
      const s = await sidecar({ resources });
      try {
        const res = await fetch(`${s.url}/v1.0/state/statestore/k`);
        expect(res.status).toBe(204);
        expect(res.headers.get("traceparent")).toBeNull();
        expect(await spans(s)).toEqual([]);
      } finally {
        await s.stop();
      }
    }
  });

  it("refuses a samplingRate that is not a number from 0 to 1, naming it", async () => {
    await expect(sidecar({ resources: TRACED("often") })).rejects.toThrow(
      /spec\.tracing\.samplingRate must be a number from "0" to "1", got "often"/,
    );
  });
});
