// Dapr's PostgreSQL layouts through the sidecar, both ways: what outrig writes is what Dapr's
// component would read (`<appid>||<key>`, jsonb + isbinary for v1, bytea + uuid etag for v2), and
// rows laid out as Dapr writes them are served by outrig (issue 15 §1, §2, §4).
import { randomUUID } from "node:crypto";
import { startPostgres } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const postgres = await startPostgres();
const run = randomUUID().replaceAll("-", "").slice(0, 10);
const v1Table = `layout_v1_${run}`;
const v2Prefix = `layout_${run}_`;
let s: Sidecar;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgres.connectionString });
  await admin.connect();
  s = await startSidecar({
    appId: "orders",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: v1store
spec:
  type: state.postgresql
  metadata:
    - { name: connectionString, value: "${postgres.connectionString}" }
    - { name: tableName, value: ${v1Table} }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: v2store
spec:
  type: state.postgresql
  version: v2
  metadata:
    - { name: connectionString, value: "${postgres.connectionString}" }
    - { name: tablePrefix, value: ${v2Prefix} }
`,
  });
});

afterAll(async () => {
  await s?.stop();
  await admin?.query(`DROP TABLE IF EXISTS ${v1Table}, ${v2Prefix}state`);
  await admin?.end();
  await postgres.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("state.postgresql v1 through the sidecar", () => {
  it('save {"name":"zed"}, then query {"filter":{"EQ":{"name":"zed"}}} returns the row', async () => {
    expect(
      (await post("/v1.0/state/v1store", [{ key: "zed", value: { name: "zed" } }])).status,
    ).toBe(204);
    const res = await post("/v1.0-alpha1/state/v1store/query", { filter: { EQ: { name: "zed" } } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { key: "zed", data: { name: "zed" }, etag: expect.any(String) },
    ]);
  });

  it("the row is Dapr's: <appid>||<key>, jsonb with isbinary false, xmin as the ETag", async () => {
    await post("/v1.0/state/v1store", [
      { key: "row", value: { n: 1 }, metadata: { ttlInSeconds: "60" } },
    ]);
    const row = await admin.query(
      `SELECT value, isbinary, xmin::text AS xmin, expiredate, insertdate FROM ${v1Table} WHERE key = 'orders||row'`,
    );
    expect(row.rows).toHaveLength(1);
    expect(row.rows[0]).toMatchObject({ value: { n: 1 }, isbinary: false });
    expect(row.rows[0].expiredate.getTime()).toBeGreaterThan(Date.now());
    const get = await fetch(`${s.url}/v1.0/state/v1store/row`);
    expect(get.headers.get("etag")).toBe(row.rows[0].xmin);
  });

  it("rows Dapr wrote (jsonb, base64 bytes) are served by the sidecar", async () => {
    await admin.query(
      `INSERT INTO ${v1Table} (key, value, isbinary) VALUES
        ('orders||from-dapr', '{"by":"daprd"}', false),
        ('orders||dapr-bytes', to_jsonb($1::text), true)`,
      [Buffer.from("opaque").toString("base64")],
    );
    expect(await (await fetch(`${s.url}/v1.0/state/v1store/from-dapr`)).json()).toEqual({
      by: "daprd",
    });
    expect(await (await fetch(`${s.url}/v1.0/state/v1store/dapr-bytes`)).text()).toBe("opaque");
  });
});

describe("state.postgresql v2 (version: v2 in the YAML) through the sidecar", () => {
  it("the row is Dapr's v2: <appid>||<key>, the JSON text as bytea, a UUID etag", async () => {
    expect((await post("/v1.0/state/v2store", [{ key: "row", value: { n: 2 } }])).status).toBe(204);
    const row = await admin.query(
      `SELECT value, etag::text AS etag FROM ${v2Prefix}state WHERE key = 'orders||row'`,
    );
    expect(row.rows).toHaveLength(1);
    expect(Buffer.from(row.rows[0].value).toString()).toBe('{"n":2}');
    const get = await fetch(`${s.url}/v1.0/state/v2store/row`);
    expect(get.headers.get("etag")).toBe(row.rows[0].etag);
    expect(await get.json()).toEqual({ n: 2 });
  });

  it("rows Dapr wrote are served, and the v2 store has no query API", async () => {
    await admin.query(
      `INSERT INTO ${v2Prefix}state (key, value) VALUES ('orders||from-dapr', $1)`,
      [Buffer.from('{"by":"daprd v2"}')],
    );
    expect(await (await fetch(`${s.url}/v1.0/state/v2store/from-dapr`)).json()).toEqual({
      by: "daprd v2",
    });
    const meta = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as {
      components: { name: string; version: string; capabilities: string[] }[];
    };
    const v2 = meta.components.find((c) => c.name === "v2store");
    expect(v2?.capabilities).toEqual(["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"]);
    const query = await post("/v1.0-alpha1/state/v2store/query", { filter: { EQ: { by: "x" } } });
    expect(query.status).toBe(500);
  });
});
