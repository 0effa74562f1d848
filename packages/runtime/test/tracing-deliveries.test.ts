// Spans of the paths beside single deliveries and API calls: bulk pub/sub deliveries, streaming
// subscriptions, job triggers and gRPC proxying, read from the sidecars' span buffers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { waitUntil } from "@outrig/conformance/testing";
import { afterAll, describe, expect, it } from "vitest";
import { daprProtos } from "../src/grpc/protos.ts";
import type { AppAddress, Sidecar } from "../src/index.ts";
import type { SpanRecord } from "../src/tracing/span-buffer.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

const TRACED = `${STATE_AND_PUBSUB}---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
`;

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const CALLER = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

async function spans(s: Sidecar): Promise<SpanRecord[]> {
  const res = await fetch(`${s.url}/outrig/v1/spans`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { spans: SpanRecord[] }).spans;
}

/** The spans of `s` once `ready` holds for them (bounded). */
async function spansWhen(
  s: Sidecar,
  ready: (all: SpanRecord[]) => boolean,
  what: string,
): Promise<SpanRecord[]> {
  let all: SpanRecord[] = [];
  await waitUntil(
    async () => {
      all = await spans(s);
      return ready(all);
    },
    5000,
    what,
  );
  return all;
}

const dir = mkdtempSync(join(tmpdir(), "outrig-traced-deliveries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bulk pub/sub deliveries", () => {
  it("make a pubsub/<topic> span per entry, a child of its CloudEvent's context, ended with the entry's status", async () => {
    const app = await fakeApp((r, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      if (r.url === "/dapr/subscribe") {
        res.end(
          JSON.stringify([
            {
              pubsubname: "pubsub",
              topic: "b",
              route: "/bulk",
              bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 200 },
            },
          ]),
        );
        return;
      }
      const { entries } = JSON.parse(r.body) as {
        entries: { entryId: string; event: { data: { n: number } } }[];
      };
      // The second message is dropped: its span ends as failed, the others as ok.
      res.end(
        JSON.stringify({
          statuses: entries.map((e) => ({
            entryId: e.entryId,
            status: e.event.data.n === 2 ? "DROP" : "SUCCESS",
          })),
        }),
      );
    });
    const s = await sidecar({ appId: "bulk-traced", appPort: app.port, resources: TRACED });
    try {
      await s.ready();
      const res = await fetch(`${s.url}/v1.0-alpha1/publish/bulk/pubsub/b`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: CALLER },
        body: JSON.stringify([
          { entryId: "1", event: { n: 1 }, contentType: "application/json" },
          { entryId: "2", event: { n: 2 }, contentType: "application/json" },
          { entryId: "3", event: { n: 3 }, contentType: "application/json" },
        ]),
      });
      expect(res.status).toBe(204);
      await until(() => app.received.find((r) => r.url === "/bulk"));
      const all = await spansWhen(
        s,
        (x) => x.filter((sp) => sp.name === "pubsub/b").length === 3,
        "three entry spans",
      );
      const publish = all.find((x) => x.name === "/v1.0-alpha1/publish/bulk/pubsub/b");
      expect(publish).toMatchObject({ traceId: TRACE_ID, parentSpanId: CALLER_SPAN });
      const entries = all.filter((x) => x.name === "pubsub/b");
      for (const e of entries) {
        expect(e).toMatchObject({
          traceId: TRACE_ID,
          parentSpanId: publish?.spanId,
          kind: "CLIENT",
          attributes: {
            "messaging.system": "pubsub",
            "messaging.destination.name": "b",
            "messaging.destination_kind": "topic",
          },
        });
      }
      expect(entries.map((e) => e.status).sort()).toEqual(["error", "ok", "ok"]);
    } finally {
      await s.stop();
      await app.close();
    }
  });
});

describe("streaming subscriptions", () => {
  it("make a pubsub/<topic> span per message, a child of the publish, ended when the client acknowledges it", async () => {
    const s = await sidecar({ appId: "stream-traced", grpcPort: 0, resources: TRACED });
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const stream = client.SubscribeTopicEventsAlpha1();
      const opened = new Promise<void>((resolve) =>
        stream.on("data", (m: { initialResponse?: unknown; eventMessage?: { id: string } }) => {
          if (m.initialResponse) resolve();
          if (m.eventMessage)
            stream.write({ eventProcessed: { id: m.eventMessage.id, status: { status: 0 } } });
        }),
      );
      stream.on("error", () => undefined);
      stream.write({ initialRequest: { pubsubName: "pubsub", topic: "s", metadata: {} } });
      await opened;
      const res = await fetch(`${s.url}/v1.0/publish/pubsub/s`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: CALLER },
        body: "{}",
      });
      expect(res.status).toBe(204);
      const all = await spansWhen(
        s,
        (x) => x.some((sp) => sp.name === "pubsub/s"),
        "the stream's message span",
      );
      const publish = all.find((x) => x.name === "/v1.0/publish/pubsub/s");
      expect(all.find((x) => x.name === "pubsub/s")).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: publish?.spanId,
        kind: "CLIENT",
        status: "ok",
        attributes: { "messaging.destination.name": "s", "messaging.system": "pubsub" },
      });
      stream.end();
    } finally {
      client.close();
      await s.stop();
    }
  });
});

describe("job triggers", () => {
  it("make a job/<name> span per trigger, whose context the app receives", async () => {
    const app = await fakeApp((_r, res) => {
      res.writeHead(200).end();
    });
    const s = await sidecar({
      appId: "jobs-traced",
      appPort: app.port,
      schedulerStore: join(dir, "jobs.db"),
      grpcPort: 0,
      resources: TRACED,
    });
    try {
      await s.ready();
      const scheduled = await fetch(`${s.url}/v1.0-alpha1/jobs/tick`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dueTime: new Date(Date.now() + 200).toISOString(), data: 1 }),
      });
      expect(scheduled.status).toBe(204);
      const trigger = await until(() => app.received.find((r) => r.url === "/job/tick"), 10_000);
      const all = await spansWhen(s, (x) => x.some((sp) => sp.name === "job/tick"), "job span");
      const span = all.find((x) => x.name === "job/tick");
      expect(span).toMatchObject({
        kind: "CLIENT",
        status: "ok",
        attributes: { "dapr.protocol": "http", "dapr.api": "POST /job/tick" },
      });
      expect(span?.parentSpanId).toBeUndefined();
      expect(trigger.headers.traceparent).toBe(`00-${span?.traceId}-${span?.spanId}-01`);
    } finally {
      await s.stop();
      await app.close();
    }
  });

  it("send the job/<name> span's context to a gRPC app as OnJobEvent metadata", async () => {
    const { appCallback } = daprProtos();
    const alpha = appCallback.dapr.proto.runtime.v1.AppCallbackAlpha.service;
    const seen: grpc.Metadata[] = [];
    const server = new grpc.Server();
    server.addService(alpha, {
      OnJobEventAlpha1: (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        seen.push(call.metadata);
        cb(null, {});
      },
    });
    const appPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const s = await sidecar({
      appId: "jobs-traced-grpc",
      appPort,
      appProtocol: "grpc",
      schedulerStore: join(dir, "jobs-grpc.db"),
      grpcPort: 0,
      resources: TRACED,
    });
    try {
      await s.ready();
      const scheduled = await fetch(`${s.url}/v1.0-alpha1/jobs/tock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dueTime: new Date(Date.now() + 200).toISOString(), data: 1 }),
      });
      expect(scheduled.status).toBe(204);
      const metadata = await until(() => seen[0], 10_000);
      const all = await spansWhen(s, (x) => x.some((sp) => sp.name === "job/tock"), "job span");
      const span = all.find((x) => x.name === "job/tock");
      expect(span).toMatchObject({
        kind: "CLIENT",
        status: "ok",
        attributes: {
          "dapr.protocol": "grpc",
          "dapr.api": "/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
        },
      });
      expect(metadata.get("traceparent")).toEqual([`00-${span?.traceId}-${span?.spanId}-01`]);
    } finally {
      await s.stop();
      server.forceShutdown();
    }
  });
});

interface Msg {
  text: string;
}
type Echo = grpc.Client & { Say: (...args: unknown[]) => unknown };

describe("gRPC proxying", () => {
  it("makes a span named for the full method on each sidecar: CLIENT on the caller's, SERVER on the target's, linked", async () => {
    const definition = loader.loadSync(
      join(dirname(fileURLToPath(import.meta.url)), "fixtures", "echo.proto"),
    );
    const EchoService = (
      grpc.loadPackageDefinition(definition) as unknown as {
        outrig: { test: { echo: { v1: { Echo: grpc.ServiceClientConstructor } } } };
      }
    ).outrig.test.echo.v1.Echo;
    const seen: grpc.Metadata[] = [];
    const app = new grpc.Server();
    app.addService(EchoService.service, {
      Say: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
        seen.push(call.metadata);
        if (call.request.text === "fail") callback({ code: grpc.status.NOT_FOUND, details: "no" });
        else callback(null, { text: `said ${call.request.text}` });
      },
    } as grpc.UntypedServiceImplementation);
    const appPort = await new Promise<number>((resolve, reject) =>
      app.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const registry = new Map<string, AppAddress>();
    const resolveApp = async (id: string) => registry.get(id);
    const target = await sidecar({
      appId: "pxt-target",
      appPort,
      appProtocol: "grpc",
      grpcPort: 0,
      resolveApp,
      resources: TRACED,
    });
    const caller = await sidecar({
      appId: "pxt-caller",
      grpcPort: 0,
      resolveApp,
      resources: TRACED,
    });
    registry.set("pxt-target", {
      host: "127.0.0.1",
      port: appPort,
      protocol: "grpc",
      sidecar: { host: "127.0.0.1", grpcPort: target.grpcPort },
    });
    const client = new EchoService(
      `127.0.0.1:${caller.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as Echo;
    const say = (text: string) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        const m = new grpc.Metadata();
        m.set("dapr-app-id", "pxt-target");
        m.set("traceparent", CALLER);
        m.set("dapr-order", "o-1");
        client.Say({ text }, m, { deadline: Date.now() + 5000 }, (error: grpc.ServiceError) =>
          resolve(error),
        );
      });
    try {
      await target.ready();
      expect(await say("hi")).toBeNull();
      expect((await say("fail"))?.code).toBe(grpc.status.NOT_FOUND);
      const method = "/outrig.test.echo.v1.Echo/Say";
      const out = await spansWhen(
        caller,
        (x) => x.filter((sp) => sp.name === method).length === 2,
        "the caller's two proxy spans",
      );
      const into = await spansWhen(
        target,
        (x) => x.filter((sp) => sp.name === method).length === 2,
        "the target's two proxy spans",
      );
      const [okOut, failedOut] = out.filter((x) => x.name === method);
      const [okIn, failedIn] = into.filter((x) => x.name === method);
      expect(okOut).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: CALLER_SPAN,
        kind: "CLIENT",
        status: "ok",
        attributes: { "dapr-app-id": "pxt-target", "dapr-order": "o-1" },
      });
      expect(okIn).toMatchObject({
        traceId: TRACE_ID,
        parentSpanId: okOut?.spanId,
        kind: "SERVER",
        status: "ok",
        appId: "pxt-target",
      });
      expect(failedOut?.status).toBe("error");
      expect(failedIn).toMatchObject({ status: "error", parentSpanId: failedOut?.spanId });
      // The app is called under the target sidecar's span.
      expect(seen[0]?.get("traceparent")).toEqual([`00-${TRACE_ID}-${okIn?.spanId}-01`]);
    } finally {
      client.close();
      await caller.stop();
      await target.stop();
      app.forceShutdown();
    }
  });
});
