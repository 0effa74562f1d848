import { afterEach, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { fakeApp, type Received, sidecar, until } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function withApp(
  subscribe: unknown[],
  reply: (r: Received) => { status: number; body?: string } = () => ({
    status: 200,
    body: '{"status":"SUCCESS"}',
  }),
): Promise<{ s: Sidecar; received: Received[] }> {
  const app = await fakeApp((r, res) => {
    if (r.url === "/dapr/subscribe") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(subscribe));
      return;
    }
    const { status, body } = reply(r);
    res.writeHead(status, body ? { "content-type": "application/json" } : {});
    res.end(body ?? "");
  });
  cleanups.push(app.close);
  const s = await sidecar({ appPort: app.port });
  cleanups.push(s.stop);
  await s.ready();
  return { s, received: app.received };
}

const publish = (s: Sidecar, path: string, body: string, contentType = "application/json") =>
  fetch(`${s.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

describe("publish and subscribe", () => {
  it("delivers the CloudEvent envelope daprd builds, as application/cloudevents+json", async () => {
    const { s, received } = await withApp([
      { pubsubname: "pubsub", topic: "orders", route: "orders-handler" },
    ]);
    const res = await publish(s, "/v1.0/publish/pubsub/orders", '{"id":7}');
    expect(res.status).toBe(204);
    const got = await until(() => received.find((r) => r.url === "/orders-handler"));
    expect(got.headers["content-type"]).toBe("application/cloudevents+json");
    expect(got.headers.pubsubname).toBe("pubsub");
    const event = JSON.parse(got.body);
    expect(event).toMatchObject({
      specversion: "1.0",
      source: "app1",
      type: "com.dapr.event.sent",
      datacontenttype: "application/json",
      topic: "orders",
      pubsubname: "pubsub",
      data: { id: 7 },
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(event.traceid).toBe(event.traceparent);
    expect(got.headers.traceparent).toBe(event.traceparent);
  });

  it("places text, binary and cloudevent payloads as Dapr does, with cloudevent.* overrides", async () => {
    const { s, received } = await withApp([{ pubsubname: "pubsub", topic: "t", route: "/t" }]);
    await publish(
      s,
      "/v1.0/publish/pubsub/t?metadata.cloudevent.id=my-id&metadata.cloudevent.type=my.type&metadata.cloudevent.subject=sub",
      "hello",
      "text/plain",
    );
    await publish(s, "/v1.0/publish/pubsub/t", "\u0001\u0002", "application/octet-stream");
    await publish(
      s,
      "/v1.0/publish/pubsub/t",
      JSON.stringify({
        specversion: "1.0",
        id: "ce-1",
        source: "me",
        type: "x",
        data: 5,
        topic: "wrong",
      }),
      "application/cloudevents+json",
    );
    await until(() => received.filter((r) => r.url === "/t").length === 3 || undefined);
    const events = received.filter((r) => r.url === "/t").map((r) => JSON.parse(r.body));
    const text = events.find((e) => e.id === "my-id");
    expect(text).toMatchObject({
      type: "my.type",
      subject: "sub",
      data: "hello",
      datacontenttype: "text/plain",
    });
    const binary = events.find((e) => e.datacontenttype === "application/octet-stream");
    expect(binary.data_base64).toBe(Buffer.from([1, 2]).toString("base64"));
    expect(binary.data).toBeUndefined();
    const ce = events.find((e) => e.id === "ce-1");
    expect(ce).toMatchObject({
      source: "me",
      type: "x",
      data: 5,
      topic: "t",
      pubsubname: "pubsub",
    });
  });

  it("rawPayload publishes the bytes and a raw subscription gets a fresh envelope with data_base64", async () => {
    const { s, received } = await withApp([
      { pubsubname: "pubsub", topic: "raw", route: "/raw", metadata: { rawPayload: '"true"' } },
    ]);
    const res = await publish(
      s,
      "/v1.0/publish/pubsub/raw?metadata.rawPayload=true",
      "plain-bytes",
      "text/plain",
    );
    expect(res.status).toBe(204);
    const got = await until(() => received.find((r) => r.url === "/raw"));
    const event = JSON.parse(got.body);
    expect(event.datacontenttype).toBe("application/octet-stream");
    expect(Buffer.from(event.data_base64, "base64").toString()).toBe("plain-bytes");
    // daprd encodes this envelope from a Go map: keys sorted, so data_base64 comes first.
    expect(Object.keys(event)).toEqual([...Object.keys(event)].sort());
    expect(got.body.startsWith('{"data_base64":')).toBe(true);
  });

  it("routes with CEL rules in order and falls back to the default route", async () => {
    const { s, received } = await withApp([
      {
        pubsubname: "pubsub",
        topic: "inventory",
        routes: {
          rules: [
            { match: 'event.type == "widget"', path: "/widgets" },
            { match: "event.data.amount > 100", path: "/big" },
          ],
          default: "/other",
        },
      },
    ]);
    await publish(
      s,
      "/v1.0/publish/pubsub/inventory?metadata.cloudevent.type=widget",
      '{"amount":1}',
    );
    await publish(s, "/v1.0/publish/pubsub/inventory", '{"amount":500}');
    await publish(s, "/v1.0/publish/pubsub/inventory", '{"amount":5}');
    await until(() => received.filter((r) => r.method === "POST").length === 3 || undefined);
    const paths = received
      .filter((r) => r.method === "POST")
      .map((r) => [r.url, JSON.parse(r.body).data.amount]);
    expect(paths).toEqual(
      expect.arrayContaining([
        ["/widgets", 1],
        ["/big", 500],
        ["/other", 5],
      ]),
    );
  });

  it("retries on RETRY and on 500, and stops on SUCCESS", async () => {
    let calls = 0;
    const { s, received } = await withApp(
      [{ pubsubname: "pubsub", topic: "r", route: "/r" }],
      () => {
        calls++;
        if (calls === 1) return { status: 200, body: '{"status":"RETRY"}' };
        if (calls === 2) return { status: 500 };
        return { status: 200 };
      },
    );
    await publish(s, "/v1.0/publish/pubsub/r", '"x"');
    await until(() => calls >= 3 || undefined, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.url === "/r")).toHaveLength(3);
  });

  it("sends to the dead-letter topic on DROP and on 404", async () => {
    const { s, received } = await withApp(
      [
        { pubsubname: "pubsub", topic: "d", route: "/d", deadLetterTopic: "dead" },
        { pubsubname: "pubsub", topic: "n", route: "/n", deadLetterTopic: "dead" },
        { pubsubname: "pubsub", topic: "dead", route: "/dead" },
      ],
      (r) => {
        if (r.url === "/d") return { status: 200, body: '{"status":"DROP"}' };
        if (r.url === "/n") return { status: 404 };
        return { status: 200 };
      },
    );
    await publish(s, "/v1.0/publish/pubsub/d", '"dropped"');
    await publish(s, "/v1.0/publish/pubsub/n", '"not-found"');
    await until(() => received.filter((r) => r.url === "/dead").length === 2 || undefined);
    const dead = received.filter((r) => r.url === "/dead").map((r) => JSON.parse(r.body).data);
    expect(dead.sort()).toEqual(["dropped", "not-found"]);
  });

  it("bulk subscribe delivers entries in one request and reads per-entry statuses", async () => {
    const { s, received } = await withApp(
      [
        {
          pubsubname: "pubsub",
          topic: "b",
          route: "/bulk",
          bulkSubscribe: { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 200 },
        },
      ],
      (r) => {
        const body = JSON.parse(r.body);
        return {
          status: 200,
          body: JSON.stringify({
            statuses: body.entries.map((e: { entryId: string }) => ({
              entryId: e.entryId,
              status: "SUCCESS",
            })),
          }),
        };
      },
    );
    const res = await fetch(`${s.url}/v1.0-alpha1/publish/bulk/pubsub/b`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([
        { entryID: "1", event: { n: 1 }, contentType: "application/json" },
        { entryId: "2", event: "two", contentType: "text/plain" },
        { entryId: "3", event: { n: 3 }, contentType: "application/json" },
      ]),
    });
    expect(res.status).toBe(204);
    const first = await until(() => received.find((r) => r.url === "/bulk"));
    const body = JSON.parse(first.body);
    expect(first.headers["content-type"]).toBe("application/json");
    expect(body.type).toBe("com.dapr.event.sent.bulk");
    const all = received
      .filter((r) => r.url === "/bulk")
      .flatMap((r) => JSON.parse(r.body).entries);
    expect(all.map((e: { event: { data: unknown } }) => e.event.data)).toEqual(
      expect.arrayContaining([{ n: 1 }, "two", { n: 3 }]),
    );
    // Each entry's CloudEvent as daprd re-encodes it from a map: keys sorted, `data` first.
    for (const e of all as { event: Record<string, unknown> }[]) {
      expect(Object.keys(e.event)).toEqual([...Object.keys(e.event)].sort());
      expect(Object.keys(e.event)[0]).toBe("data");
    }
  });

  it("bulk delivery acks SUCCESS, dead-letters DROP and missing statuses, and redelivers without a dead-letter topic", async () => {
    const seen = new Map<string, number>();
    const bulk = { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 100 };
    const { s, received } = await withApp(
      [
        {
          pubsubname: "pubsub",
          topic: "bk",
          route: "/bk",
          deadLetterTopic: "bk-dead",
          bulkSubscribe: bulk,
        },
        { pubsubname: "pubsub", topic: "bk2", route: "/bk", bulkSubscribe: bulk },
        { pubsubname: "pubsub", topic: "bk-dead", route: "/bk-dead" },
      ],
      (r) => {
        if (r.url !== "/bk") return { status: 200 };
        const entries = JSON.parse(r.body).entries as {
          entryId: string;
          event: { data: string };
        }[];
        const statuses = entries.flatMap((e) => {
          const n = (seen.get(e.event.data) ?? 0) + 1;
          seen.set(e.event.data, n);
          if (e.event.data === "drop") return [{ entryId: e.entryId, status: "DROP" }];
          if (e.event.data.startsWith("later") && n === 1) return [];
          return [{ entryId: e.entryId, status: "SUCCESS" }];
        });
        return { status: 200, body: JSON.stringify({ statuses }) };
      },
    );
    for (const data of ["ok", "drop", "later"])
      await publish(s, "/v1.0/publish/pubsub/bk", JSON.stringify(data));
    await publish(s, "/v1.0/publish/pubsub/bk2", JSON.stringify("later2"));
    await until(() => (seen.get("later2") ?? 0) >= 2 || undefined, 10_000);
    await until(() => received.filter((r) => r.url === "/bk-dead").length === 2 || undefined);
    const dead = received.filter((r) => r.url === "/bk-dead").map((r) => JSON.parse(r.body).data);
    expect(dead.sort()).toEqual(["drop", "later"]);
    expect(seen.get("ok")).toBe(1);
    expect(seen.get("later")).toBe(1);
  });

  it("reports subscriptions in the metadata API", async () => {
    const { s } = await withApp([
      { pubsubname: "pubsub", topic: "m", route: "/m", deadLetterTopic: "dl" },
    ]);
    const meta = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
      subscriptions: unknown[];
    };
    expect(meta.subscriptions).toEqual([
      {
        pubsubname: "pubsub",
        topic: "m",
        rules: [{ path: "/m" }],
        deadLetterTopic: "dl",
        type: "PROGRAMMATIC",
      },
    ]);
  });
});

describe("malformed publish requests", () => {
  it.each([
    ["/v1.0/publish/nopubsub/t", 404, "ERR_PUBSUB_NOT_FOUND"],
    ["/v1.0/publish/pubsub", 404, "ERR_TOPIC_NAME_EMPTY"],
    ["/v1.0/publish/pubsub/", 404, "ERR_TOPIC_NAME_EMPTY"],
    ["/v1.0/publish/pubsub/t?metadata.rawPayload=maybe", 400, "ERR_PUBSUB_REQUEST_METADATA"],
    ["/v1.0-alpha1/publish/bulk/pubsub/t", 400, "ERR_PUBSUB_EVENTS_SER"],
  ])("POST %s → %i %s", async (path, status, errorCode) => {
    const s = await sidecar({});
    cleanups.push(s.stop);
    const res = await publish(s, path, "{not json");
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ errorCode });
  });

  it("bulk publish rejects duplicate and empty entry ids", async () => {
    const s = await sidecar({});
    cleanups.push(s.stop);
    const dup = await publish(
      s,
      "/v1.0-alpha1/publish/bulk/pubsub/t",
      JSON.stringify([
        { entryId: "a", event: 1 },
        { entryId: "a", event: 2 },
      ]),
    );
    expect(dup.status).toBe(400);
    expect(await dup.json()).toMatchObject({ errorCode: "ERR_PUBSUB_EVENTS_SER" });
    const empty = await publish(
      s,
      "/v1.0-alpha1/publish/bulk/pubsub/t",
      JSON.stringify([{ entryId: "", event: 1 }]),
    );
    expect(empty.status).toBe(400);
  });

  it("no pubsub configured → 400 ERR_PUBSUB_NOT_CONFIGURED", async () => {
    const s = await sidecar({ resources: " " });
    cleanups.push(s.stop);
    const res = await publish(s, "/v1.0/publish/pubsub/t", "x");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: "ERR_PUBSUB_NOT_CONFIGURED" });
  });
});
