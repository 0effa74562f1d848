// The gRPC app channel (appProtocol grpc) with the unmodified @dapr/dapr SDK's DaprServer in gRPC
// mode as the app: the sidecar calls its AppCallback for subscriptions, topic events (the SDK
// has only AppCallbackAlpha's bulk method), input bindings and its health check. A plain
// @grpc/grpc-js AppCallback server covers what the SDK cannot answer: the request's exact
// fields, UNIMPLEMENTED, OnBulkTopicEvent itself, a BindingEventResponse, a call never answered.
import { setTimeout as sleep } from "node:timers/promises";
import { DaprPubSubStatusEnum } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TopicEventBulkRequest__Output } from "../src/grpc/generated/dapr/proto/runtime/v1/TopicEventBulkRequest.ts";
import type { TopicEventRequest__Output } from "../src/grpc/generated/dapr/proto/runtime/v1/TopicEventRequest.ts";
import { daprProtos } from "../src/grpc/protos.ts";
import type { Sidecar } from "../src/index.ts";
import { instances } from "./fixtures/test-bindings.ts";
import { STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";
import { type SdkApp, startSdkApp } from "./sdk-app.ts";

const RESOURCES = `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: queue
spec:
  type: bindings.test-queue
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: unheard
spec:
  type: bindings.test-queue
  version: v1
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: declared-sub
spec:
  pubsubname: pubsub
  topic: declared
  routes:
    default: /declared-route
`;

type Seen = { data: unknown; headers: Record<string, string> };
const seen: Record<string, Seen[]> = {};
const record =
  (
    name: string,
    answer: (data: unknown) => DaprPubSubStatusEnum = () => DaprPubSubStatusEnum.SUCCESS,
  ) =>
  async (data: unknown, headers: object) => {
    seen[name] ??= [];
    seen[name].push({ data, headers: headers as Record<string, string> });
    return answer(data);
  };
const got = (name: string): Seen[] => seen[name] ?? [];
const bindingEvents: unknown[] = [];
let app: SdkApp;

beforeAll(async () => {
  app = await startSdkApp({
    appId: "grpc-callback-app",
    appProtocol: "grpc",
    sidecar: { resources: RESOURCES, appApiToken: "app-token" },
    async register(server) {
      await server.pubsub.subscribeWithOptions("pubsub", "orders", {
        route: { rules: [{ match: "event.data.priority > 2", path: "urgent" }], default: "normal" },
        deadLetterTopic: "orders-dead",
      });
      server.pubsub.subscribeToRoute("pubsub", "orders", "urgent", record("urgent"));
      server.pubsub.subscribeToRoute(
        "pubsub",
        "orders",
        "normal",
        record("normal", (d) =>
          (d as { drop?: boolean }).drop ? DaprPubSubStatusEnum.DROP : DaprPubSubStatusEnum.SUCCESS,
        ),
      );
      await server.pubsub.subscribe("pubsub", "orders-dead", record("dead"));
      const tries = new Map<string, number>();
      await server.pubsub.subscribe(
        "pubsub",
        "flaky",
        record("flaky", (d) => {
          const id = (d as { id: string }).id;
          tries.set(id, (tries.get(id) ?? 0) + 1);
          return tries.get(id) === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
        }),
      );
      await server.pubsub.subscribe("pubsub", "raw", record("raw"), "", { rawPayload: "true" });
      await server.pubsub.subscribe("pubsub", "declared", record("declared"), "declared-route");
      const bulkTries = new Map<number, number>();
      await server.pubsub.subscribeBulk(
        "pubsub",
        "bulk",
        record("bulk", (d) => {
          const n = (d as { n: number }).n;
          bulkTries.set(n, (bulkTries.get(n) ?? 0) + 1);
          return n === 2 && bulkTries.get(n) === 1
            ? DaprPubSubStatusEnum.RETRY
            : DaprPubSubStatusEnum.SUCCESS;
        }),
        { maxMessagesCount: 10, maxAwaitDurationMs: 50 },
      );
      await server.binding.receive("queue", async (data: unknown) => {
        bindingEvents.push(data);
      });
    },
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

describe("pub/sub to a gRPC app (ListTopicSubscriptions, OnTopicEvent)", () => {
  it("routes by the app's CEL rule and default route", async () => {
    await app.client.pubsub.publish("pubsub", "orders", { priority: 5, id: "u" });
    await app.client.pubsub.publish("pubsub", "orders", { priority: 1, id: "n" });
    await until(() => got("urgent").length === 1 && got("normal").length === 1);
    expect(got("urgent")[0]?.data).toEqual({ priority: 5, id: "u" });
    expect(got("normal")[0]?.data).toEqual({ priority: 1, id: "n" });
  });

  it("sends every call with APP_API_TOKEN and the message's trace context", async () => {
    await until(() => got("urgent").length > 0);
    const headers = got("urgent")[0]?.headers ?? {};
    expect(headers["dapr-api-token"]).toBe("app-token");
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("a DROP answer sends the message to the dead-letter topic", async () => {
    await app.client.pubsub.publish("pubsub", "orders", { priority: 0, drop: true });
    const dead = await until(() => got("dead")[0]);
    expect(dead.data).toEqual({ priority: 0, drop: true });
  });

  it("a RETRY answer is delivered again", async () => {
    await app.client.pubsub.publish("pubsub", "flaky", { id: "f1" });
    await until(() => got("flaky").length === 2);
    expect(got("flaky").map((s) => s.data)).toEqual([{ id: "f1" }, { id: "f1" }]);
  });

  it("a rawPayload subscription gets the message's bytes: here, the whole CloudEvent", async () => {
    await app.client.pubsub.publish("pubsub", "raw", { n: 1 });
    const raw = (await until(() => got("raw")[0])).data as Record<string, unknown>;
    expect(raw).toMatchObject({ specversion: "1.0", topic: "raw", data: { n: 1 } });
  });

  it("merges declarative Subscriptions; the metadata API lists both kinds", async () => {
    await app.client.pubsub.publish("pubsub", "declared", { d: 1 });
    expect((await until(() => got("declared")[0])).data).toEqual({ d: 1 });
    const meta = (await (await fetch(`${app.sidecar.url}/v1.0/metadata`)).json()) as {
      subscriptions: {
        topic: string;
        type: string;
        deadLetterTopic: string;
        rules: { match?: string; path: string }[];
      }[];
    };
    const byTopic = new Map(meta.subscriptions.map((s) => [s.topic, s]));
    expect(byTopic.get("declared")).toMatchObject({
      type: "DECLARATIVE",
      rules: [{ path: "/declared-route" }],
    });
    expect(byTopic.get("orders")).toMatchObject({
      type: "PROGRAMMATIC",
      deadLetterTopic: "orders-dead",
    });
    expect(byTopic.get("orders")?.rules[0]?.match).toBe("event.data.priority > 2");
  });
});

describe("bulk subscribe to a gRPC app (OnBulkTopicEventAlpha1 when OnBulkTopicEvent is UNIMPLEMENTED)", () => {
  it("delivers the entries and redelivers the one answered RETRY", async () => {
    const result = await app.client.pubsub.publishBulk("pubsub", "bulk", [
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
    expect(result.failedMessages).toEqual([]);
    await until(() => got("bulk").length === 4);
    const ns = got("bulk").map((s) => (s.data as { n: number }).n);
    expect(ns.sort()).toEqual([1, 2, 2, 3]);
  });
});

describe("input bindings to a gRPC app (ListInputBindings, OnBindingEvent)", () => {
  it("delivers events of the bindings the app lists, and starts no other", async () => {
    await app.client.binding.send("queue", "create", { order: 7 });
    expect(await until(() => bindingEvents[0])).toEqual({ order: 7 });
    // Two test-queue bindings are loaded; only the listed one is read.
    expect(instances.filter((i) => i.handlers.length > 0)).toHaveLength(1);
    expect(instances.find((i) => i.handlers.length > 0)?.failures).toEqual([]);
  });
});

describe("readiness and limits of the gRPC app channel", () => {
  it("is ready only once the app's HealthCheck answers, and honours app-max-concurrency", async () => {
    let active = 0;
    let most = 0;
    let handled = 0;
    const slow = await startSdkApp({
      appId: "grpc-slow-app",
      appProtocol: "grpc",
      deferStart: true,
      sidecar: { appMaxConcurrency: 1 },
      async register(server) {
        await server.pubsub.subscribe("pubsub", "slow", async () => {
          active++;
          most = Math.max(most, active);
          await sleep(30);
          active--;
          handled++;
        });
      },
    });
    try {
      let ready = false;
      void slow.sidecar.ready().then(() => {
        ready = true;
      });
      await sleep(300);
      expect(ready).toBe(false);
      expect((await fetch(`${slow.sidecar.url}/v1.0/healthz`)).status).not.toBe(204);
      await slow.server.start();
      await slow.sidecar.ready();
      expect((await fetch(`${slow.sidecar.url}/v1.0/healthz`)).status).toBe(204);
      const published = await Promise.all(
        [1, 2, 3, 4].map((n) => slow.client.pubsub.publish("pubsub", "slow", { n })),
      );
      expect(published.every((p) => p.error === undefined)).toBe(true);
      await until(() => handled === 4);
      expect(most).toBe(1);
    } finally {
      await slow.stop();
    }
  });
});

describe("a plain @grpc/grpc-js AppCallback app", () => {
  const events: TopicEventRequest__Output[] = [];
  const metadata: grpc.Metadata[] = [];
  const bulk: TopicEventBulkRequest__Output[] = [];
  const cancelled: string[] = [];
  const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
  let server: grpc.Server;
  let own: Sidecar;

  beforeAll(async () => {
    const { appCallback } = daprProtos();
    server = new grpc.Server();
    // No AppCallbackHealthCheck and no AppCallbackAlpha: UNIMPLEMENTED for both.
    server.addService(appCallback.dapr.proto.runtime.v1.AppCallback.service, {
      ListTopicSubscriptions: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, {
          subscriptions: [
            {
              pubsubName: "pubsub",
              topic: "plain",
              routes: { default: "plain-route" },
              deadLetterTopic: "plain-dead",
            },
            { pubsubName: "pubsub", topic: "plain-dead", routes: { default: "dead" } },
            {
              pubsubName: "pubsub",
              topic: "plain-bulk",
              routes: { default: "bulk" },
              bulkSubscribe: { enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 20 },
            },
            { pubsubName: "pubsub", topic: "hang" },
          ],
        }),
      OnTopicEvent: (
        call: grpc.ServerUnaryCall<TopicEventRequest__Output, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        events.push(call.request);
        metadata.push(call.metadata);
        if (call.request.topic === "hang") {
          call.once("cancelled", () => cancelled.push(call.request.id));
          return;
        }
        if (call.request.data.toString("utf8").includes("unimplemented")) {
          cb({ code: grpc.status.UNIMPLEMENTED, details: "not here" });
          return;
        }
        cb(null, { status: "SUCCESS" });
      },
      OnBulkTopicEvent: (
        call: grpc.ServerUnaryCall<TopicEventBulkRequest__Output, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        bulk.push(call.request);
        cb(null, {
          statuses: call.request.entries.map((e) => ({ entryId: e.entryId, status: "SUCCESS" })),
        });
      },
      ListInputBindings: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { bindings: ["queue"] }),
      OnBindingEvent: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, {
          storeName: "statestore",
          states: [
            {
              key: "from-grpc-binding",
              value: Buffer.from('{"v":1}'),
              metadata: { contentType: "application/json" },
            },
          ],
          to: ["out"],
          data: Buffer.from('{"fwd":true}'),
        }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    own = await sidecar({
      appId: "plain-grpc-app",
      appPort: port,
      appProtocol: "grpc",
      grpcPort: 0,
      appApiToken: "plain-token",
      gracefulShutdownSeconds: 0.2,
      logger: {
        debug() {},
        info() {},
        warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }),
        error() {},
      },
      resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: queue
spec:
  type: bindings.test-queue
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: out
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - { name: direction, value: output }
`,
    });
    // The app has no health service: UNIMPLEMENTED still means it serves gRPC, so ready.
    await own.ready();
  }, 60_000);

  afterAll(async () => {
    await own?.stop();
    server?.forceShutdown();
  });

  const publish = (topic: string, body: unknown) =>
    fetch(`${own.url}/v1.0/publish/pubsub/${topic}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("OnTopicEvent carries the CloudEvent's fields, extensions, route and token", async () => {
    expect((await publish("plain", { a: 1 })).status).toBe(204);
    const e = await until(() => events.find((x) => x.topic === "plain"));
    expect(e).toMatchObject({
      specVersion: "1.0",
      source: "plain-grpc-app",
      type: "com.dapr.event.sent",
      dataContentType: "application/json",
      pubsubName: "pubsub",
      path: "plain-route",
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(e.data.toString("utf8"))).toEqual({ a: 1 });
    const ext = e.extensions?.fields ?? {};
    expect(ext.topic?.stringValue).toBe("plain");
    expect(ext.pubsubname?.stringValue).toBe("pubsub");
    expect(ext.data).toBeUndefined();
    const md = metadata[events.indexOf(e)];
    expect(md?.get("dapr-api-token")).toEqual(["plain-token"]);
    expect(md?.get("traceparent")[0]).toBe(ext.traceparent?.stringValue);
  });

  it("an OnTopicEvent answered UNIMPLEMENTED is dropped to the dead-letter topic", async () => {
    await publish("plain", { unimplemented: true });
    const dead = await until(() => events.find((x) => x.topic === "plain-dead"));
    // DROP, not RETRY (which would dead-letter too, as a failed delivery).
    expect(warnings).toContainEqual({
      message: "app dropped the message",
      fields: { topic: "plain", detail: "OnTopicEvent is UNIMPLEMENTED" },
    });
    expect(dead.path).toBe("dead");
    // The dead-lettered message is the original CloudEvent, data and all.
    expect(JSON.parse(dead.data.toString("utf8"))).toEqual({ unimplemented: true });
  });

  it("uses OnBulkTopicEvent when the app has it", async () => {
    await publish("plain-bulk", { b: 1 });
    const got = await until(() => bulk[0]);
    expect(got).toMatchObject({ topic: "plain-bulk", pubsubName: "pubsub", path: "bulk" });
    expect(got.entries).toHaveLength(1);
    expect(got.entries[0]?.contentType).toBe("application/cloudevents+json");
    expect(JSON.parse(got.entries[0]?.cloudEvent?.data.toString("utf8") ?? "")).toEqual({ b: 1 });
  });

  it("applies the BindingEventResponse as the legacy reply: saves state, sends data to `to`", async () => {
    const res = await fetch(`${own.url}/v1.0/bindings/queue`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ operation: "create", data: { e: 1 } }),
    });
    expect(res.status).toBeLessThan(300);
    await expect
      .poll(async () => (await fetch(`${own.url}/v1.0/state/statestore/from-grpc-binding`)).status)
      .toBe(200);
    expect(
      await (await fetch(`${own.url}/v1.0/state/statestore/from-grpc-binding`)).json(),
    ).toEqual({ v: 1 });
    const out = instances.find((i) =>
      i.sent.some((r) => r.data && Buffer.from(r.data).toString("utf8") === '{"fwd":true}'),
    );
    expect(out?.handlers).toEqual([]);
  });

  it("a delivery the app never answers is cancelled when the sidecar stops", async () => {
    await publish("hang", { h: 1 });
    const e = await until(() => events.find((x) => x.topic === "hang"));
    await own.stop();
    await until(() => cancelled.includes(e.id) || undefined);
    expect(cancelled).toEqual([e.id]);
  });
});
