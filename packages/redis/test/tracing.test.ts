// Tracing across sidecars into a real Zipkin server: app A publishes through its sidecar to a
// real Redis stream, app B gets the message through its sidecar and invokes app C through it;
// Zipkin's API then holds one trace with the publish span as root, the delivery span its child
// and the invocation span the delivery's child, each from its own app.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  startRedis,
  startZipkin,
  useService,
  type ZipkinServer,
  type ZipkinSpan,
} from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const redis = useService(() => startRedis());
let zipkin: ZipkinServer;
const servers: Server[] = [];
const sidecars: Sidecar[] = [];
const run = Math.random().toString(36).slice(2, 8);
let sidecarB: Sidecar;
const calledC: IncomingMessage["headers"][] = [];
const deliveredB: IncomingMessage["headers"][] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

function resources(): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: ${redis().host}:${redis().port}
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
    zipkin:
      endpointAddress: ${zipkin.spansUrl}
`;
}

beforeAll(async () => {
  zipkin = await startZipkin();
  const portC = await listen(
    createServer((req, res) => {
      calledC.push(req.headers);
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("done");
    }),
  );
  const portB = await listen(
    createServer((req, res) => {
      if (req.url === "/dapr/subscribe") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify([{ pubsubname: "pubsub", topic: `orders-${run}`, route: "/orders" }]),
        );
        return;
      }
      if (req.url !== "/orders") {
        res.writeHead(404);
        res.end();
        return;
      }
      req.resume();
      deliveredB.push(req.headers);
      // The app passes on the trace context it was given, as an instrumented app does.
      const traceparent = String(req.headers.traceparent);
      fetch(`${sidecarB.url}/v1.0/invoke/c/method/work`, {
        method: "POST",
        headers: { traceparent },
      })
        .then((r) => r.text())
        .then(
          () => {
            res.writeHead(200, { "content-type": "application/json" });
            res.end("{}");
          },
          () => {
            res.writeHead(500);
            res.end();
          },
        );
    }),
  );
  const start = (appId: string, appPort?: number) =>
    startSidecar({
      appId,
      httpPort: 0,
      ...(appPort ? { appPort } : {}),
      logger: silentLogger,
      registry: createRegistry({ manifests: [manifest], discover: false }),
      resources: resources(),
      resolveApp: async (id) => (id === "c" ? { host: "127.0.0.1", port: portC } : undefined),
    }).then((s) => {
      sidecars.push(s);
      return s;
    });
  const sidecarA = await start("a");
  sidecarB = await start("b", portB);
  await Promise.all([sidecarA.ready(), sidecarB.ready()]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(sidecars.map((s) => s.stop()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await zipkin?.stop();
});

describe("a publish → delivery → invocation chain in Zipkin", () => {
  it("is one trace with the right parent-child links", async () => {
    const published = await fetch(`${sidecars[0]?.url}/v1.0/publish/pubsub/orders-${run}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ order: 1 }),
    });
    expect(published.status).toBe(204);
    const [, traceId, publishSpanId] = (published.headers.get("traceparent") ?? "").split("-");
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await waitUntil(() => calledC.length > 0, 30_000, "app C is invoked");
    let spans: ZipkinSpan[] = [];
    await waitUntil(
      async () => {
        spans = await zipkin.trace(String(traceId));
        return spans.length >= 3;
      },
      30_000,
      () => `Zipkin holds the trace's 3 spans (has ${spans.length})`,
      250,
    );
    const byName = new Map(spans.map((s) => [s.name, s]));
    const publish = byName.get(`/v1.0/publish/pubsub/orders-${run}`);
    const delivery = byName.get(`pubsub/orders-${run}`);
    const invoke = byName.get("calllocal/c/work");
    expect(publish).toMatchObject({
      id: publishSpanId,
      localEndpoint: { serviceName: "a" },
      tags: { "messaging.destination.name": `orders-${run}`, "messaging.system": "pubsub" },
    });
    expect(publish?.parentId).toBeUndefined();
    expect(delivery).toMatchObject({
      parentId: publishSpanId,
      localEndpoint: { serviceName: "b" },
    });
    expect(invoke).toMatchObject({
      parentId: delivery?.id,
      localEndpoint: { serviceName: "b" },
      tags: { "rpc.service": "ServiceInvocation", "net.peer.name": "c" },
    });
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    // What the apps saw: B the delivery span's context, C the invocation span's.
    expect(deliveredB[0]?.traceparent).toBe(`00-${traceId}-${delivery?.id}-01`);
    expect(calledC[0]?.traceparent).toBe(`00-${traceId}-${invoke?.id}-01`);
  });
});
