import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

let s: Sidecar;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  s = await sidecar({});
  await s.ready();
});
afterAll(() => s.stop());

describe("state API", () => {
  it("reproduces the curl example", async () => {
    const save = await post("/v1.0/state/statestore", [
      { key: "user-1", value: { name: "Alice", score: 42 } },
    ]);
    expect(save.status).toBe(204);
    expect(await save.text()).toBe("");
    const get = await fetch(`${s.url}/v1.0/state/statestore/user-1`);
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("application/json");
    expect(get.headers.get("etag")).toBeTruthy();
    expect(await get.json()).toEqual({ name: "Alice", score: 42 });
  });

  it("stores keys under the app id prefix and returns them unprefixed", async () => {
    await post("/v1.0/state/statestore", [{ key: "p1", value: "v" }]);
    const raw = await s.runtime.stateStore("statestore").component.get({ key: "app1||p1" });
    expect(Buffer.from(raw.data ?? []).toString()).toBe('"v"');
    const bulk = await post("/v1.0/state/statestore/bulk", { keys: ["p1"] });
    expect(await bulk.json()).toEqual([{ key: "p1", data: "v", etag: expect.any(String) }]);
  });

  it("answers 204 for a missing key and [] as a no-op", async () => {
    const get = await fetch(`${s.url}/v1.0/state/statestore/nope?`);
    expect(get.status).toBe(204);
    expect((await post("/v1.0/state/statestore", [])).status).toBe(204);
  });

  it("bulk get keeps key order, uses `data`, and gives just {key} for missing keys", async () => {
    await post("/v1.0/state/statestore", [
      { key: "b1", value: 1 },
      { key: "b2", value: { x: true } },
    ]);
    const res = await post("/v1.0/state/statestore/bulk", {
      keys: ["b2", "missing", "b1"],
      parallelism: 2,
    });
    expect(res.status).toBe(200);
    const items = (await res.json()) as Record<string, unknown>[];
    expect(items.map((i) => i.key)).toEqual(["b2", "missing", "b1"]);
    expect(items[0]?.data).toEqual({ x: true });
    expect(items[1]).toEqual({ key: "missing" });
    expect(items[2]?.data).toBe(1);
  });

  it("deletes with If-Match: 409 on a wrong ETag, 400 on an invalid one, 204 on the right one", async () => {
    await post("/v1.0/state/statestore", [{ key: "d1", value: "x" }]);
    const etag = (await fetch(`${s.url}/v1.0/state/statestore/d1`)).headers.get("etag") as string;
    const wrong = await fetch(`${s.url}/v1.0/state/statestore/d1`, {
      method: "DELETE",
      headers: { "if-match": `${Number(etag) + 100}` },
    });
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ errorCode: "ERR_STATE_DELETE" });
    await post("/v1.0/state/strictstore", [{ key: "d1", value: "x" }]);
    const invalid = await fetch(`${s.url}/v1.0/state/strictstore/d1`, {
      method: "DELETE",
      headers: { "if-match": "not-a-number" },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ errorCode: "ERR_STATE_DELETE" });
    const ok = await fetch(`${s.url}/v1.0/state/statestore/d1`, {
      method: "DELETE",
      headers: { "if-match": etag },
    });
    expect(ok.status).toBe(204);
    expect((await fetch(`${s.url}/v1.0/state/statestore/d1`)).status).toBe(204);
  });

  it("saves with a wrong ETag get 409 ERR_STATE_SAVE and with an invalid ETag 400", async () => {
    await post("/v1.0/state/statestore", [{ key: "e1", value: "x" }]);
    const etag = (await fetch(`${s.url}/v1.0/state/statestore/e1`)).headers.get("etag") as string;
    const wrong = await post("/v1.0/state/statestore", [
      { key: "e1", value: "y", etag: `${Number(etag) + 100}` },
    ]);
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ errorCode: "ERR_STATE_SAVE" });
    const invalid = await post("/v1.0/state/strictstore", [{ key: "e1", value: "y", etag: "abc" }]);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ errorCode: "ERR_STATE_SAVE" });
    const right = await post("/v1.0/state/statestore", [{ key: "e1", value: "y", etag }]);
    expect(right.status).toBe(204);
  });

  it("runs transactions in order, with case-insensitive fields and metadata: null", async () => {
    await post("/v1.0/state/statestore", [{ key: "t1", value: "old" }]);
    const res = await post("/v1.0/state/statestore/transaction", {
      Operations: [
        { Operation: "delete", Request: { Key: "t1" } },
        { operation: "upsert", request: { key: "t2", value: { n: 2 } } },
      ],
      metadata: null,
    });
    expect(res.status).toBe(204);
    expect((await fetch(`${s.url}/v1.0/state/statestore/t1`)).status).toBe(204);
    expect(await (await fetch(`${s.url}/v1.0/state/statestore/t2`)).json()).toEqual({ n: 2 });
  });

  it("honours metadata.ttlInSeconds as a query parameter", async () => {
    const res = await post("/v1.0/state/statestore?metadata.ttlInSeconds=100", [
      { key: "ttl1", value: 1 },
    ]);
    expect(res.status).toBe(204);
    const get = await fetch(`${s.url}/v1.0/state/statestore/ttl1`);
    expect(get.headers.get("metadata.ttlexpiretime")).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("queries with the alpha API", async () => {
    await post("/v1.0/state/statestore", [
      { key: "q1", value: { kind: "a", n: 1 } },
      { key: "q2", value: { kind: "b", n: 2 } },
    ]);
    const res = await post("/v1.0-alpha1/state/statestore/query", {
      filter: { EQ: { kind: "b" } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { key: string; data: unknown }[] };
    expect(body.results).toEqual([
      { key: "q2", data: { kind: "b", n: 2 }, etag: expect.any(String) },
    ]);
    const none = await post("/v1.0-alpha1/state/statestore/query", {
      filter: { EQ: { kind: "zzz" } },
    });
    expect(none.status).toBe(204);
  });
});

describe("malformed state requests", () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    ["bad JSON", () => post("/v1.0/state/statestore", "[{nope"), 400, "ERR_MALFORMED_REQUEST"],
    [
      "a body that is not an array",
      () => post("/v1.0/state/statestore", { key: "k" }),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "an item without key",
      () => post("/v1.0/state/statestore", [{ value: 1 }]),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "a key with ||",
      () => post("/v1.0/state/statestore", [{ key: "a||b", value: 1 }]),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "get of a key with ||",
      () => fetch(`${s.url}/v1.0/state/statestore/a%7C%7Cb`),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "an unknown store (save)",
      () => post("/v1.0/state/nostore", [{ key: "k", value: 1 }]),
      400,
      "ERR_STATE_STORE_NOT_FOUND",
    ],
    [
      "an unknown store (get)",
      () => fetch(`${s.url}/v1.0/state/nostore/k`),
      400,
      "ERR_STATE_STORE_NOT_FOUND",
    ],
    [
      "bulk get with bad JSON",
      () => post("/v1.0/state/statestore/bulk", "{"),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "a transaction with an unknown operation",
      () =>
        post("/v1.0/state/statestore/transaction", {
          operations: [{ operation: "merge", request: { key: "k" } }],
        }),
      400,
      "ERR_NOT_SUPPORTED_STATE_OPERATION",
    ],
    [
      "a transaction item without key",
      () =>
        post("/v1.0/state/statestore/transaction", {
          operations: [{ operation: "upsert", request: { value: 1 } }],
        }),
      400,
      "ERR_MALFORMED_REQUEST",
    ],
    [
      "an invalid concurrency option",
      () =>
        post("/v1.0/state/statestore", [
          { key: "k", value: 1, options: { concurrency: "sometimes" } },
        ]),
      500,
      "ERR_STATE_SAVE",
    ],
    [
      "a non-integer ttl",
      () => post("/v1.0/state/statestore?metadata.ttlInSeconds=abc", [{ key: "k", value: 1 }]),
      500,
      "ERR_STATE_SAVE",
    ],
  ];
  for (const [name, send, status, errorCode] of cases) {
    it(`${name} → ${status} ${errorCode}`, async () => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = (await res.json()) as { errorCode: string; message: string };
      expect(body.errorCode).toBe(errorCode);
      expect(body.message.length).toBeGreaterThan(0);
    });
  }

  it("no state store at all → 500 ERR_STATE_STORE_NOT_CONFIGURED", async () => {
    const bare = await sidecar({ resources: " " });
    try {
      const res = await fetch(`${bare.url}/v1.0/state/statestore/k`);
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ errorCode: "ERR_STATE_STORE_NOT_CONFIGURED" });
    } finally {
      await bare.stop();
    }
  });

  it("an unknown path in the API space without app id → 501 naming it (issue 20 §8), not ERR_DIRECT_INVOKE", async () => {
    const res = await fetch(`${s.url}/v1.0/nothing/here`);
    expect(res.status).toBe(501);
    expect(await res.json()).toMatchObject({ errorCode: "ERR_API_UNIMPLEMENTED" });
  });
});
