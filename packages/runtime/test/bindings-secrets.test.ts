import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utf8 } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { instances } from "./fixtures/test-bindings.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

let s: Sidecar;
let app: Awaited<ReturnType<typeof fakeApp>>;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), "outrig-bs-"));
  await writeFile(
    join(dir, "s.json"),
    JSON.stringify({ open: "1", closed: "2", nested: { a: { b: "deep" } } }),
  );
  process.env.OUTRIG_TEST_SECRET_VALUE = "env-value";
  app = await fakeApp((r, res) => {
    if (r.method === "OPTIONS" && r.url === "/in-route") {
      res.writeHead(405);
      res.end();
      return;
    }
    if (r.method === "POST" && r.url === "/in-route" && r.body.includes("legacy")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          storeName: "statestore",
          state: [{ key: "from-binding", value: { v: 1 } }],
          to: ["out"],
          data: { forwarded: true },
        }),
      );
      return;
    }
    if (r.method === "POST" && r.url === "/in-route") {
      const fail = r.body.includes("fail");
      res.writeHead(fail ? 500 : 200, { "content-type": "application/json" });
      res.end(fail ? "" : '{"ok":true}');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  s = await sidecar({
    appPort: app.port,
    resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: q }
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - { name: route, value: /in-route }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: out }
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - { name: direction, value: output }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: filestore }
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - { name: secretsFile, value: ${join(dir, "s.json")} }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: envstore }
spec:
  type: secretstores.local.env
  version: v1
  metadata:
    - { name: prefix, value: OUTRIG_TEST_ }
---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: { name: cfg }
spec:
  secrets:
    scopes:
      - storeName: filestore
        defaultAccess: allow
        deniedSecrets: [closed]
`,
  });
  await s.ready();
});
afterAll(async () => {
  await s.stop();
  await app.close();
});

const post = (path: string, body: string) =>
  fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

describe("output bindings", () => {
  it("passes data as its JSON encoding, adds trace headers, and returns data and metadata headers", async () => {
    const res = await fetch(`${s.url}/v1.0/bindings/q`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
      body: JSON.stringify({ data: "a string", metadata: { k: "v" }, operation: "echo" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("metadata.echoed")).toBe("yes");
    expect(await res.text()).toBe('"a string"');
    const sent = instances.find((i) => i.handlers.length > 0)?.sent.at(-1);
    expect(sent?.metadata).toMatchObject({
      k: "v",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
  });

  it("answers 204 when the binding returns nothing", async () => {
    const res = await post(
      "/v1.0/bindings/q",
      JSON.stringify({ data: { x: 1 }, operation: "create" }),
    );
    expect(res.status).toBe(204);
  });

  it.each([
    ["bad JSON", "/v1.0/bindings/q", "{", 400, "ERR_MALFORMED_REQUEST"],
    ["an unknown binding", "/v1.0/bindings/nope", "{}", 500, "ERR_INVOKE_OUTPUT_BINDING"],
    [
      "an unsupported operation",
      "/v1.0/bindings/q",
      '{"operation":"explode"}',
      500,
      "ERR_INVOKE_OUTPUT_BINDING",
    ],
  ])("%s → %i %s", async (_name, path, body, status, errorCode) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ errorCode });
  });
});

describe("input bindings", () => {
  it("probes with OPTIONS (405 counts as listening) and delivers events as application/json", async () => {
    expect(app.received.some((r) => r.method === "OPTIONS" && r.url === "/in-route")).toBe(true);
    await post("/v1.0/bindings/q", JSON.stringify({ data: { order: 9 }, operation: "create" }));
    const got = await until(() =>
      app.received.find((r) => r.method === "POST" && r.body.includes("order")),
    );
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers.source).toBe("test-queue");
    expect(JSON.parse(got.body)).toEqual({ order: 9 });
    const queue = instances.find((i) => i.handlers.length > 0);
    expect(queue?.replies.map((r) => (r instanceof Uint8Array ? utf8(r) : r))).toContain(
      '{"ok":true}',
    );
  });

  it("applies the legacy reply: saves state and sends data to output bindings", async () => {
    await post("/v1.0/bindings/q", JSON.stringify({ data: "legacy", operation: "create" }));
    await expect
      .poll(async () => (await fetch(`${s.url}/v1.0/state/statestore/from-binding`)).status)
      .toBe(200);
    expect(await (await fetch(`${s.url}/v1.0/state/statestore/from-binding`)).json()).toEqual({
      v: 1,
    });
    const out = instances.find((i) =>
      i.sent.some((r) => r.operation === "create" && r.data && utf8(r.data).includes("forwarded")),
    );
    expect(out?.handlers).toEqual([]);
    expect(utf8(out?.sent.at(-1)?.data ?? new Uint8Array())).toBe('{"forwarded":true}');
  });

  it("reports an app failure to the binding", async () => {
    await post("/v1.0/bindings/q", JSON.stringify({ data: "fail", operation: "create" }));
    const queue = instances.find((i) => i.handlers.length > 0);
    await until(() => (queue?.failures.length ?? 0) > 0 || undefined);
    expect(queue?.failures[0]).toContain("500");
  });
});

describe("secrets", () => {
  it("reads single, nested and bulk secrets, and filters by the Configuration's scopes", async () => {
    expect(await (await fetch(`${s.url}/v1.0/secrets/filestore/open`)).json()).toEqual({
      open: "1",
    });
    expect(await (await fetch(`${s.url}/v1.0/secrets/filestore/nested:a:b`)).json()).toEqual({
      "nested:a:b": "deep",
    });
    const denied = await fetch(`${s.url}/v1.0/secrets/filestore/closed`);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ errorCode: "ERR_PERMISSION_DENIED" });
    const bulk = (await (await fetch(`${s.url}/v1.0/secrets/filestore/bulk`)).json()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(bulk).sort()).toEqual(["nested:a:b", "open"]);
    expect((await fetch(`${s.url}/v1.0/secrets/filestore/absent`)).status).toBe(204);
  });

  it("reads environment secrets under a prefix", async () => {
    expect(await (await fetch(`${s.url}/v1.0/secrets/envstore/SECRET_VALUE`)).json()).toEqual({
      SECRET_VALUE: "env-value",
    });
  });

  it("answers 401 ERR_SECRET_STORE_NOT_FOUND for an unknown store", async () => {
    const res = await fetch(`${s.url}/v1.0/secrets/nostore/x`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ errorCode: "ERR_SECRET_STORE_NOT_FOUND" });
  });
});
