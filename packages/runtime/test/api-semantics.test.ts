// Issue 14 §3, §4, §5, §7 and issue 20 §8, through the sidecar's HTTP API; each case failed on the
// code before the API core took these rules over.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../src/api/errors.ts";
import { MAX_JSON_DEPTH } from "../src/api/json.ts";
import { MAX_TRANSACTION_OPERATIONS, stateDelete, stateQuery } from "../src/api/state.ts";
import { createRegistry, type Sidecar, startSidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

let s: Sidecar;
const STORE = "/v1.0/state/statestore";
const send = (path: string, body: unknown, method = "POST") =>
  fetch(`${s.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
const value = async (key: string): Promise<unknown> => {
  const res = await fetch(`${s.url}${STORE}/${key}`);
  return res.status === 204 ? undefined : res.json();
};
/** The API core's context over the test sidecar's components, to call api/ functions directly. */
const apiContext = () => ({
  runtime: s.runtime,
  appId: "app1",
  logger: silentLogger,
  app: undefined,
  resolveApp: undefined,
  health: { outbound: true, ready: true },
  extended: {},
  metadata: () => ({}),
  shutdown: () => undefined,
});
const errorOf = async (res: Response) =>
  (await res.json()) as { errorCode: string; message: string };

beforeAll(async () => {
  // Room for the 100k-operation transaction body; the default 4 MiB limit is harden's to test.
  s = await sidecar({ maxBodySize: 16 * 2 ** 20 });
  await s.ready();
});
afterAll(() => s.stop());

describe("non-string ETags are refused, never dropped (issue 14 §4)", () => {
  it("save with a numeric etag → 400 ERR_MALFORMED_REQUEST and the newer value stays", async () => {
    await send(STORE, [{ key: "n1", value: "newer" }]);
    const res = await send(STORE, [{ key: "n1", value: "x", etag: 1 }]);
    expect(res.status).toBe(400);
    const body = await errorOf(res);
    expect(body.errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(body.message).toContain("etag");
    expect(await value("n1")).toBe("newer");
  });

  it("bulk save with one numeric etag → 400 and nothing of the request is written", async () => {
    const res = await send(STORE, [
      { key: "n2", value: "a" },
      { key: "n3", value: "b", etag: 7 },
    ]);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(await value("n2")).toBeUndefined();
  });

  it("an object etag {value: 1} → 400", async () => {
    const res = await send(STORE, [{ key: "n4", value: "a", etag: { value: 1 } }]);
    expect(res.status).toBe(400);
    expect(await value("n4")).toBeUndefined();
  });

  it("a transaction with a numeric etag → 400 and no operation is applied", async () => {
    await send(STORE, [{ key: "n5", value: "newer" }]);
    const res = await send(`${STORE}/transaction`, {
      operations: [
        { operation: "upsert", request: { key: "n6", value: 1 } },
        { operation: "upsert", request: { key: "n5", value: "x", etag: 1 } },
      ],
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(await value("n5")).toBe("newer");
    expect(await value("n6")).toBeUndefined();
  });

  it("delete with a non-string etag (If-Match is read by the same rule) → ERR_MALFORMED_REQUEST", async () => {
    await send(STORE, [{ key: "n7", value: "kept" }]);
    const ctx = apiContext();
    const error = await stateDelete(ctx, { store: "statestore", key: "n7", etag: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ errorCode: "ERR_MALFORMED_REQUEST", status: 400, grpcStatus: 3 });
    expect(await value("n7")).toBe("kept");
  });
});

describe("bodies are decoded strictly (issue 14 §7, §3)", () => {
  it("invalid UTF-8 in a JSON body → 400 naming it, nothing written", async () => {
    const text = Buffer.from('[{"key":"u1","value":"a\u00e9b"}]', "utf8");
    const bad = Buffer.from(text);
    // Replace the two bytes of é with one lone continuation byte and a stray 0xff.
    const at = bad.indexOf(0xc3);
    bad[at] = 0x80;
    bad[at + 1] = 0xff;
    const res = await send(STORE, bad);
    expect(res.status).toBe(400);
    const body = await errorOf(res);
    expect(body.errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(body.message).toContain("UTF-8");
    expect(await value("u1")).toBeUndefined();
    expect((await send(STORE, text)).status).toBe(204);
    expect(await value("u1")).toBe("a\u00e9b");
  });

  it("a query with a non-string sort key → 400, not 500", async () => {
    const res = await send("/v1.0-alpha1/state/statestore/query", {
      filter: {},
      sort: [{ key: 1 }],
    });
    expect(res.status).toBe(400);
    const body = await errorOf(res);
    expect(body.errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(body.message).toContain("sort[0].key");
  });

  it("a page.limit that is not an integer → 400", async () => {
    const res = await send("/v1.0-alpha1/state/statestore/query", { page: { limit: "3" } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("page.limit");
  });

  it(`nesting deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) → 400 naming the limit; at the limit it works`, async () => {
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const deep = await send(STORE, `[{"key":"deep","value":${nested(100_000)}}]`);
    expect(deep.status).toBe(400);
    const body = await errorOf(deep);
    expect(body.errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(body.message).toContain("MAX_JSON_DEPTH");
    // The body's array and item object are two levels; the value fills the rest.
    const atLimit = await send(STORE, `[{"key":"deep","value":${nested(MAX_JSON_DEPTH - 2)}}]`);
    expect(atLimit.status).toBe(204);
    const over = await send(STORE, `[{"key":"deep2","value":${nested(MAX_JSON_DEPTH - 1)}}]`);
    expect(over.status).toBe(400);
    expect(await value("deep2")).toBeUndefined();
  });

  it(`a published JSON event nested deeper than MAX_JSON_DEPTH → 400 naming the limit (not a 500 from the envelope); at the limit it works`, async () => {
    const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const deep = await send("/v1.0/publish/pubsub/deep", nested(5000));
    expect(deep.status).toBe(400);
    const body = await errorOf(deep);
    expect(body.errorCode).toBe("ERR_MALFORMED_REQUEST");
    expect(body.message).toContain("MAX_JSON_DEPTH");
    expect((await send("/v1.0/publish/pubsub/deep", nested(MAX_JSON_DEPTH))).status).toBe(204);
  });

  it(`a transaction over MAX_TRANSACTION_OPERATIONS (${MAX_TRANSACTION_OPERATIONS}) → 400 naming the limit, nothing written; at the limit it works`, async () => {
    const ops = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        operation: "upsert",
        request: { key: `${tag}${i}`, value: i },
      }));
    const huge = await send(`${STORE}/transaction`, { operations: ops(100_000, "h") });
    expect(huge.status).toBe(400);
    const body = await errorOf(huge);
    expect(body.errorCode).toBe("ERR_STATE_STORE_TOO_MANY_TRANSACTIONS");
    expect(body.message).toContain("MAX_TRANSACTION_OPERATIONS");
    expect(await value("h0")).toBeUndefined();
    const ok = await send(`${STORE}/transaction`, {
      operations: ops(MAX_TRANSACTION_OPERATIONS, "m"),
    });
    expect(ok.status).toBe(204);
    expect(await value(`m${MAX_TRANSACTION_OPERATIONS - 1}`)).toBe(MAX_TRANSACTION_OPERATIONS - 1);
  });
});

describe("query paging sees only this app's keys (issue 14 §5)", () => {
  const kinds = (res: { results: { key: string }[] }) => res.results.map((r) => r.key);

  it("memory store: another app's keys sorting first do not eat the page", async () => {
    const component = s.runtime.stateStore("statestore").component;
    for (const k of ["p1", "p2", "p3"]) {
      await component.set({ key: `aaa||${k}`, value: Buffer.from('{"kind":"paged"}') });
    }
    await send(STORE, [
      { key: "p1", value: { kind: "paged" } },
      { key: "p2", value: { kind: "paged" } },
    ]);
    const res = await send("/v1.0-alpha1/state/statestore/query", {
      filter: { EQ: { kind: "paged" } },
      page: { limit: 3 },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { key: string }[]; token?: string };
    expect(kinds(body)).toEqual(["p1", "p2"]);
    expect(body.token).toBeUndefined();
  });

  it("sqlite shared by two sidecars (app ids alpha and zeta): limit 3 and tokens count only zeta's rows", async () => {
    const dir = await mkdtemp(join(tmpdir(), "outrig-query-prefix-"));
    const resources = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: shared
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${join(dir, "state.db")}
`;
    const start = (appId: string) =>
      startSidecar({
        appId,
        httpPort: 0,
        logger: silentLogger,
        registry: createRegistry({ discover: false }),
        resources,
      });
    const alpha = await start("alpha");
    const zeta = await start("zeta");
    try {
      const save = (sc: Sidecar, keys: string[]) =>
        fetch(`${sc.url}/v1.0/state/shared`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(keys.map((key) => ({ key, value: { kind: "shared" } }))),
        });
      expect((await save(alpha, ["a1", "a2", "a3", "a4"])).status).toBe(204);
      expect((await save(zeta, ["z1", "z2"])).status).toBe(204);
      const query = async (page: Record<string, unknown>) => {
        const res = await fetch(`${zeta.url}/v1.0-alpha1/state/shared/query`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ filter: { EQ: { kind: "shared" } }, page }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as { results: { key: string }[]; token?: string };
      };
      const three = await query({ limit: 3 });
      expect(kinds(three)).toEqual(["z1", "z2"]);
      expect(three.token).toBeUndefined();
      const first = await query({ limit: 1 });
      expect(kinds(first)).toEqual(["z1"]);
      const second = await query({ limit: 1, token: first.token });
      expect(kinds(second)).toEqual(["z2"]);
      expect(second.token).toBeUndefined();
    } finally {
      await zeta.stop();
      await alpha.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("unimplemented building blocks answer 501 naming the API (issue 20 §8)", () => {
  const cases: [string, string, string][] = [
    ["POST", "/v1.0-alpha1/subtlecrypto/x/getkey", "cryptography"],
    // v1.0 and v1.0-beta1 are served (test/workflows.test.ts); the retired alpha1 is not.
    ["POST", "/v1.0-alpha1/workflows/dapr/wf/start", "workflows"],
  ];
  for (const [method, path, api] of cases) {
    it(`${method} ${path} → 501 ERR_API_UNIMPLEMENTED (${api}), also with dapr-app-id`, async () => {
      for (const headers of [{}, { "dapr-app-id": "app1" }]) {
        const res = await fetch(`${s.url}${path}`, { method, headers });
        expect(res.status).toBe(501);
        const body = await errorOf(res);
        expect(body.errorCode).toBe("ERR_API_UNIMPLEMENTED");
        expect(body.message).toContain(`the ${api} API`);
      }
    });
  }
});

describe("the query API takes the query as JSON text too (gRPC's QueryStateRequest.query)", () => {
  it("parses it under the same limits: valid text works, deep or broken text is 400", async () => {
    const ctx = apiContext();
    await send(STORE, [{ key: "text-q", value: { kind: "text-query" } }]);
    const found = await stateQuery(ctx, {
      store: "statestore",
      query: JSON.stringify({ filter: { EQ: { kind: "text-query" } } }),
    });
    expect(found.results.map((r) => r.key)).toEqual(["text-q"]);
    const deep = `{"filter":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}}`;
    for (const query of [deep, "{not json", Buffer.from([0x7b, 0xff, 0x7d])]) {
      const error = await stateQuery(ctx, { store: "statestore", query }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        errorCode: "ERR_MALFORMED_REQUEST",
        status: 400,
        grpcStatus: 3,
      });
      expect((error as Error).message).toMatch(/^failed parsing the query: /);
    }
  });
});

describe("the error registry", () => {
  it("gives every entry a Dapr errorCode, an HTTP error status and a gRPC status", async () => {
    const { API_ERRORS, GrpcStatus } = await import("../src/index.ts");
    const grpc = new Set<number>(Object.values(GrpcStatus));
    for (const [kind, entry] of Object.entries(API_ERRORS)) {
      // Dapr's codes are ERR_*, but for the scheduler's own DAPR_SCHEDULER_* (errorcodes.Scheduler*).
      expect(entry.errorCode, kind).toMatch(/^(ERR|DAPR_SCHEDULER)_[A-Z_]+$/);
      expect(entry.http, kind).toBeGreaterThanOrEqual(400);
      expect(entry.http, kind).toBeLessThan(600);
      expect(grpc.has(entry.grpc), kind).toBe(true);
      expect(entry.grpc, kind).not.toBe(GrpcStatus.OK);
    }
  });

  it("carries Dapr's gRPC status and ErrorInfo reason", async () => {
    const { apiError, fromComponentError, unimplementedApiOf } = await import("../src/index.ts");
    const { ETagError } = await import("@outrig/core");
    expect(apiError("STATE_STORE_NOT_FOUND", { store: "s" })).toMatchObject({
      errorCode: "ERR_STATE_STORE_NOT_FOUND",
      status: 400,
      grpcStatus: 3,
      reason: "DAPR_STATE_NOT_FOUND",
      message: "state store s is not found",
    });
    const mismatch = fromComponentError("stateSave", new ETagError("mismatch"), { store: "s" });
    expect(mismatch).toMatchObject({ errorCode: "ERR_STATE_SAVE", status: 409, grpcStatus: 10 });
    expect(mismatch.message).toMatch(/^failed saving state in state store s: /);
    expect(unimplementedApiOf("StartWorkflowBeta1")).toBe("workflows");
    expect(unimplementedApiOf("ScheduleJobAlpha1")).toBeUndefined();
    expect(unimplementedApiOf("TryLockAlpha1")).toBeUndefined();
    expect(unimplementedApiOf("RegisterActorReminder")).toBeUndefined();
    expect(unimplementedApiOf("SubscribeActorEventsAlpha1")).toBe("actors");
    expect(unimplementedApiOf("GetState")).toBeUndefined();
    expect(unimplementedApiOf("ExecuteStateTransaction")).toBeUndefined();
  });
});
