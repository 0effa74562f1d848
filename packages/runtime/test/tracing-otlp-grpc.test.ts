// OTLP over gRPC: a sidecar with `otel.protocol: grpc` exports through the OTel SDK's gRPC
// exporter to an in-test collector serving opentelemetry.proto.collector.trace.v1.TraceService.
import * as grpc from "@grpc/grpc-js";
import { waitUntil } from "@outrig/conformance/testing";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import type { SpanRecord } from "../src/tracing/span-buffer.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

/**
 * No package in the lockfile ships opentelemetry-proto's .proto files, so the collector decodes
 * with this schema: the fields of collector/trace/v1, trace/v1, resource/v1 and common/v1 that the
 * assertions read, with upstream's field numbers and types (one package here for brevity; the
 * wire format does not carry package names, and fields not listed are skipped by protobufjs).
 */
const OTLP_TRACE_SUBSET = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse {}
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
}
`;

const root = protobuf.parse(OTLP_TRACE_SUBSET, { keepCase: false }).root;
const Request = root.lookupType("otlp.ExportTraceServiceRequest");
const Response = root.lookupType("otlp.ExportTraceServiceResponse");

interface KeyValue {
  key: string;
  value?: { stringValue?: string; intValue?: string; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId?: Buffer;
  traceState?: string;
  name: string;
  kind: number;
  attributes: KeyValue[];
  status?: { code?: number };
}
interface ExportRequest {
  resourceSpans: {
    resource?: { attributes: KeyValue[] };
    scopeSpans: { scope?: { name: string }; spans: OtlpSpan[] }[];
  }[];
}

/** OTLP's SpanKind: SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3. */
const SPAN_KIND_CLIENT = 3;

/** A collector: TraceService/Export on a free port, keeping each request and its metadata. */
async function collector(): Promise<{
  port: number;
  requests: { body: ExportRequest; metadata: grpc.Metadata }[];
  close(): Promise<void>;
}> {
  const requests: { body: ExportRequest; metadata: grpc.Metadata }[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: ExportRequest) => Buffer.from(Request.encode(v).finish()),
        requestDeserialize: (b: Buffer) =>
          Request.toObject(Request.decode(b), {
            arrays: true,
            longs: String,
            defaults: false,
          }) as ExportRequest,
        responseSerialize: (v: object) => Buffer.from(Response.encode(v).finish()),
        responseDeserialize: (b: Buffer) => Response.decode(b),
      },
    },
    {
      Export: (
        call: grpc.ServerUnaryCall<ExportRequest, object>,
        done: grpc.sendUnaryData<object>,
      ) => {
        requests.push({ body: call.request, metadata: call.metadata });
        done(null, {});
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const CALLER = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

const hex = (b: Buffer | undefined) => (b && b.length > 0 ? Buffer.from(b).toString("hex") : "");
const attrs = (list: KeyValue[]) =>
  Object.fromEntries(list.map((a) => [a.key, a.value?.stringValue ?? a.value?.intValue]));

describe("OTLP/gRPC export", () => {
  it("sends the spans of a publish and its delivery through the SDK's gRPC exporter, linked and attributed", async () => {
    const otlp = await collector();
    const app = await fakeApp((r, res) => {
      if (r.url === "/dapr/subscribe") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify([{ pubsubname: "pubsub", topic: "orders", route: "/orders" }]));
        return;
      }
      res.writeHead(200).end();
    });
    const s = await sidecar({
      appId: "otlp-grpc",
      appPort: app.port,
      resources: `${STATE_AND_PUBSUB}---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
    otel:
      endpointAddress: 127.0.0.1:${otlp.port}
      protocol: grpc
      isSecure: false
      headers: "x-collector-token=secret"
`,
    });
    let buffered: SpanRecord[] = [];
    try {
      await s.ready();
      const res = await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: CALLER },
        body: "{}",
      });
      expect(res.status).toBe(204);
      await until(() => app.received.find((r) => r.url === "/orders"));
      await waitUntil(
        async () => {
          const r = await fetch(`${s.url}/outrig/v1/spans`);
          buffered = ((await r.json()) as { spans: SpanRecord[] }).spans;
          return buffered.some((x) => x.name === "pubsub/orders");
        },
        5000,
        "the delivery span is recorded",
      );
    } finally {
      await s.stop(); // flushes the batch to the collector
      await app.close();
      await otlp.close();
    }
    expect(otlp.requests.length).toBeGreaterThan(0);
    expect(otlp.requests[0]?.metadata.get("x-collector-token")).toEqual(["secret"]);
    const resourceSpans = otlp.requests.flatMap((r) => r.body.resourceSpans);
    expect(attrs(resourceSpans[0]?.resource?.attributes ?? [])["service.name"]).toBe("otlp-grpc");
    expect(resourceSpans[0]?.scopeSpans[0]?.scope?.name).toBe("outrig");
    const exported = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans));
    const publish = exported.find((x) => x.name === "/v1.0/publish/pubsub/orders");
    const delivery = exported.find((x) => x.name === "pubsub/orders");
    expect(publish).toBeDefined();
    expect(delivery).toBeDefined();
    // The caller's context, then the publish, then the delivery: one trace, linked by parent.
    expect([hex(publish?.traceId), hex(publish?.parentSpanId)]).toEqual([TRACE_ID, CALLER_SPAN]);
    expect([hex(delivery?.traceId), hex(delivery?.parentSpanId)]).toEqual([
      TRACE_ID,
      hex(publish?.spanId),
    ]);
    expect(delivery?.kind).toBe(SPAN_KIND_CLIENT);
    expect(attrs(publish?.attributes ?? [])).toMatchObject({
      "messaging.system": "pubsub",
      "messaging.destination.name": "orders",
      "messaging.destination_kind": "topic",
    });
    expect(attrs(delivery?.attributes ?? [])).toMatchObject({
      "messaging.destination.name": "orders",
    });
    // What the collector got is what the sidecar's own buffer holds.
    for (const span of [publish, delivery]) {
      const same = buffered.find((b) => b.spanId === hex(span?.spanId));
      expect(same?.name).toBe(span?.name);
    }
  });
});
