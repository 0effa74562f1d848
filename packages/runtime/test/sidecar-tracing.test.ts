// The sidecar's own span making: daprd's sampling, W3C propagation, and spans the SDK's
// exporters can read (the real Zipkin and OTLP peers are in tracing*.test.ts and redis's tests).
import { hrTimeToMicroseconds } from "@opentelemetry/core";
import { silentLogger } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { describeSpan, SidecarTracing, SpanKind } from "../src/tracing/sidecar-tracing.ts";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = "b7ad6b7169203331";

function tracing(samplingRate: number): SidecarTracing {
  return new SidecarTracing("app", { samplingRate } as never, silentLogger);
}

describe("SidecarTracing", () => {
  it("follows a sampled parent even at samplingRate 0, keeping its trace and tracestate", () => {
    const t = tracing(0);
    const span = t.start("x", SpanKind.CLIENT, {
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: "vendor=a,other=b",
    });
    expect(span.isRecording()).toBe(true);
    const headers = t.headers(span);
    expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(headers.traceparent.split("-")[2]).not.toBe(PARENT);
    expect(headers.tracestate).toBe("vendor=a,other=b");
    span.end();
    const [record] = t.buffer.recent();
    expect(record).toMatchObject({ traceId: TRACE, parentSpanId: PARENT, name: "x" });
  });

  it("records nothing under an unsampled parent at samplingRate 0 but carries the trace on", () => {
    const t = tracing(0);
    const span = t.start("x", SpanKind.CLIENT, { traceparent: `00-${TRACE}-${PARENT}-00` });
    expect(span.isRecording()).toBe(false);
    expect(t.headers(span).traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    span.end();
    expect(t.buffer.recent()).toEqual([]);
  });

  it("starts a new trace for a malformed or all-zero traceparent", () => {
    const t = tracing(1);
    for (const bad of [
      "nonsense",
      `00-${"0".repeat(32)}-${PARENT}-01`,
      `ff-${TRACE}-${PARENT}-01`,
    ]) {
      const span = t.start("x", SpanKind.CLIENT, { traceparent: bad });
      expect(span.spanContext().traceId).not.toBe(TRACE);
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      span.end();
      expect(t.buffer.recent(1)[0]?.parentSpanId).toBeUndefined();
    }
  });

  it("ends spans with whole-microsecond times, a described name and attributes, and a status", async () => {
    const t = tracing(1);
    const span = t.start("/v1.0/state/s/k", SpanKind.CLIENT, {}, { early: "yes" });
    let described = 0;
    describeSpan(span, (name) => {
      described++;
      return { name: `described ${name}`, attributes: { "db.system": "state" } };
    });
    await new Promise((r) => setTimeout(r, 5));
    span.setStatus({ code: 2, message: "boom" });
    span.end();
    span.end(); // a second end changes nothing
    expect(described).toBe(0); // nothing read it yet
    const [record] = t.buffer.recent();
    expect(described).toBe(1);
    expect(record).toMatchObject({
      name: "described /v1.0/state/s/k",
      kind: "CLIENT",
      status: "error",
      attributes: { early: "yes", "db.system": "state" },
    });
    expect(record?.durationMs).toBeGreaterThanOrEqual(4);
    expect(record?.durationMs).toBeLessThan(1000);
    expect(Math.abs((record?.startTimeMs ?? 0) - Date.now())).toBeLessThan(60_000);
    // Zipkin refuses fractional microseconds: the SDK's exporters read these HrTimes as they are.
    const readable = span as unknown as { startTime: [number, number]; endTime: [number, number] };
    expect(Number.isInteger(hrTimeToMicroseconds(readable.startTime))).toBe(true);
    expect(Number.isInteger(hrTimeToMicroseconds(readable.endTime))).toBe(true);
    await t.shutdown();
  });
});

describe("HTTP spans in the span buffer", () => {
  it("keep neither the request nor the response alive once answered", async () => {
    const { createServer } = await import("node:http");
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    const { tracedHttpHandler } = await import("../src/tracing/http-tracing.ts");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const t = tracing(1);
    const refs: WeakRef<object>[] = [];
    const server = createServer(
      tracedHttpHandler((req, res) => {
        refs.push(new WeakRef(req), new WeakRef(res));
        res.end("ok");
      }, t),
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    for (let i = 0; i < 20; i++)
      await (await fetch(`http://127.0.0.1:${port}/v1.0/state/s/k${i}`)).text();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      gc();
    }
    expect(t.buffer.recent()).toHaveLength(20);
    expect(refs.filter((r) => r.deref() !== undefined)).toEqual([]);
    // Read after the fact, the description still names the call as daprd does.
    expect(t.buffer.recent(1)[0]).toMatchObject({
      name: "/v1.0/state/s/k19",
      attributes: { "db.system": "state", "dapr.status_code": "200" },
    });
  });
});
