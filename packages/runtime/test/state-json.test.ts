// Values keep their kind through the sidecar: a JSON body value reaches the store as JSON, so
// stores lay it out as Dapr does and the query API matches it (issue 15 §1).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry, type Sidecar, startSidecar } from "../src/index.ts";

let s: Sidecar;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "outrig-json-"));
  file = join(dir, "state.db");
  s = await startSidecar({
    appId: "myapp",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: memstore
spec:
  type: state.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: sqlstore
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${file}
`,
  });
});
afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) =>
  fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe.each(["memstore", "sqlstore"])("JSON stays JSON through the sidecar: %s", (store) => {
  it('save {"name":"zed"}, then query {"filter":{"EQ":{"name":"zed"}}} returns the row', async () => {
    expect(
      (await post(`/v1.0/state/${store}`, [{ key: "zed-1", value: { name: "zed" } }])).status,
    ).toBe(204);
    const res = await post(`/v1.0-alpha1/state/${store}/query`, {
      filter: { EQ: { name: "zed" } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { key: string; data: unknown }[] };
    expect(body.results).toEqual([
      { key: "zed-1", data: { name: "zed" }, etag: expect.any(String) },
    ]);
  });

  it("the store sees a JSON value, and a get answers its JSON with application/json", async () => {
    await post(`/v1.0/state/${store}`, [{ key: "kind-1", value: "a string" }]);
    const raw = await s.runtime.stateStore(store).component.get({ key: "myapp||kind-1" });
    expect(raw.kind).toBe("json");
    const get = await fetch(`${s.url}/v1.0/state/${store}/kind-1`);
    expect(get.headers.get("content-type")).toBe("application/json");
    expect(await get.text()).toBe('"a string"');
  });
});

describe("state.sqlite rows through the sidecar, as Dapr's component lays them out", () => {
  it("a saved JSON value is JSON text with is_binary = 0 under <appid>||<key>", async () => {
    await post("/v1.0/state/sqlstore", [{ key: "layout", value: { a: [1, 2] } }]);
    const raw = new DatabaseSync(file, { readOnly: true });
    try {
      expect(
        raw.prepare("SELECT key, value, is_binary FROM state WHERE key = 'myapp||layout'").get(),
      ).toEqual({ key: "myapp||layout", value: '{"a":[1,2]}', is_binary: 0 });
    } finally {
      raw.close();
    }
  });

  it("rows Dapr wrote (JSON text, base64 bytes) read back through the sidecar", async () => {
    const raw = new DatabaseSync(file);
    try {
      const insert = raw.prepare(
        "INSERT INTO state (key, value, is_binary, etag) VALUES (?, ?, ?, ?)",
      );
      insert.run("myapp||from-dapr", '{"name":"dapr"}', 0, "etag-json");
      insert.run("myapp||dapr-bytes", Buffer.from("raw bytes").toString("base64"), 1, "etag-b");
    } finally {
      raw.close();
    }
    const json = await fetch(`${s.url}/v1.0/state/sqlstore/from-dapr`);
    expect(json.headers.get("etag")).toBe("etag-json");
    expect(await json.json()).toEqual({ name: "dapr" });
    const bytes = await fetch(`${s.url}/v1.0/state/sqlstore/dapr-bytes`);
    expect(await bytes.text()).toBe("raw bytes");
    const found = await post("/v1.0-alpha1/state/sqlstore/query", {
      filter: { EQ: { name: "dapr" } },
    });
    expect(
      ((await found.json()) as { results: { key: string }[] }).results.map((r) => r.key),
    ).toEqual(["from-dapr"]);
  });
});

describe("storeValue: what a saved value is when it reaches the store", () => {
  it("a JSON value stays JSON; bytes stay bytes unless their contentType is application/json", async () => {
    const { storeValue } = await import("../src/api/state.ts");
    expect(storeValue({ name: "zed" }, {}, "k")).toEqual({ name: "zed" });
    const bytes = new TextEncoder().encode('{"name":"zed"}');
    expect(storeValue(bytes, {}, "k")).toBe(bytes);
    expect(storeValue(bytes, { contentType: "text/plain" }, "k")).toBe(bytes);
    expect(storeValue(bytes, { contentType: "application/json" }, "k")).toEqual({ name: "zed" });
    expect(() =>
      storeValue(new TextEncoder().encode("{nope"), { contentType: "application/json" }, "k1"),
    ).toThrow(/key k1 has contentType application\/json but is not JSON/);
  });
});

describe("/v1.0/metadata capabilities, as daprd lists them", () => {
  it("ACTOR, last, for every state store with ETAG and TRANSACTIONAL, actorStateStore or not", async () => {
    const meta = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
      components: { name: string; capabilities: string[] }[];
    };
    for (const name of ["memstore", "sqlstore"]) {
      const caps = meta.components.find((c) => c.name === name)?.capabilities ?? [];
      expect(caps, name).toEqual(expect.arrayContaining(["ETAG", "TRANSACTIONAL"]));
      expect(caps.at(-1), name).toBe("ACTOR");
      expect(
        caps.filter((c) => c === "ACTOR"),
        name,
      ).toHaveLength(1);
    }
  });
});
