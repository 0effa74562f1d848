import { describe, expect, it } from "vitest";
import type { SidecarStateConfig } from "./config.ts";
import type { SidecarSuiteContext } from "./context.ts";
import { call, errorCode, sleep } from "./http.ts";

const STORE = "statestore";

/**
 * State through the sidecar's HTTP API: CRUD, bulk, ETags, TTL, transactions and query. Each
 * capability the store declares in `/v1.0/metadata` gets its positive cases; an undeclared one
 * gets the error daprd answers for it.
 */
export function describeSidecarState(ctx: SidecarSuiteContext, config: SidecarStateConfig): void {
  const caps = ctx.capabilities(STORE);
  const key = (name: string): string => `sc-${ctx.runId}-${name}`;
  const base = `/v1.0/state/${STORE}`;
  const save = (items: unknown[]) => call(ctx.url(), "POST", base, items);
  const get = (k: string) => call(ctx.url(), "GET", `${base}/${encodeURIComponent(k)}`);

  describe("state", { concurrent: true }, () => {
    it("saves a JSON value and reads it back with its ETag", async () => {
      const k = key("json");
      const value = { name: "zed", n: 1, nested: { list: [1, "two"] } };
      expect((await save([{ key: k, value }])).status).toBe(204);
      const got = await get(k);
      expect(got.status).toBe(200);
      expect(got.json).toEqual(value);
      if (caps.has("ETAG")) expect(got.headers.get("etag")).toBeTruthy();
    });

    it("saves a string value, then deletes it", async () => {
      const k = key("string");
      expect((await save([{ key: k, value: "plain text" }])).status).toBe(204);
      expect((await get(k)).json).toBe("plain text");
      expect((await call(ctx.url(), "DELETE", `${base}/${k}`)).status).toBe(204);
      expect((await get(k)).status).toBe(204);
    });

    it("answers 204 for a key that was never saved", async () => {
      const got = await get(key("missing"));
      expect(got.status).toBe(204);
      expect(got.text).toBe("");
    });

    it("bulk saves and bulk gets, a missing key included", async () => {
      const keys = [key("bulk-a"), key("bulk-b"), key("bulk-c")];
      expect(
        (
          await save([
            { key: keys[0], value: { i: 0 } },
            { key: keys[1], value: { i: 1 } },
          ])
        ).status,
      ).toBe(204);
      const got = await call(ctx.url(), "POST", `${base}/bulk`, { keys, parallelism: 2 });
      expect(got.status).toBe(200);
      const items = got.json as { key: string; data?: unknown; etag?: string }[];
      const byKey = new Map(items.map((i) => [i.key, i]));
      expect(items).toHaveLength(3);
      expect(byKey.get(keys[0] as string)?.data).toEqual({ i: 0 });
      expect(byKey.get(keys[1] as string)?.data).toEqual({ i: 1 });
      expect(byKey.get(keys[2] as string)?.data).toBeUndefined();
      if (caps.has("ETAG")) expect(byKey.get(keys[0] as string)?.etag).toBeTruthy();
    });

    it("rejects a body that is not a JSON array of items with 400", async () => {
      const got = await call(ctx.url(), "POST", base, "{not json");
      expect(got.status).toBe(400);
      expect(errorCode(got)).toBe("ERR_MALFORMED_REQUEST");
    });

    if (caps.has("ETAG")) {
      it("ETags: a stale ETag is 409 for save and delete, the current one wins", async () => {
        const k = key("etag");
        await save([{ key: k, value: 1 }]);
        const first = (await get(k)).headers.get("etag") as string;
        expect((await save([{ key: k, value: 2, etag: first }])).status).toBe(204);
        const current = (await get(k)).headers.get("etag") as string;
        expect(current).not.toBe(first);
        const stale = await save([{ key: k, value: 3, etag: first }]);
        expect(stale.status).toBe(409);
        expect(errorCode(stale)).toBe("ERR_STATE_SAVE");
        const staleDelete = await call(ctx.url(), "DELETE", `${base}/${k}`, undefined, {
          "if-match": first,
        });
        expect(staleDelete.status).toBe(409);
        expect(errorCode(staleDelete)).toBe("ERR_STATE_DELETE");
        expect((await get(k)).json).toBe(2);
        expect(
          (await call(ctx.url(), "DELETE", `${base}/${k}`, undefined, { "if-match": current }))
            .status,
        ).toBe(204);
        expect((await get(k)).status).toBe(204);
      });

      if (config.etagsParsed) {
        it("ETags: one the store cannot parse is 400", async () => {
          const k = key("etag-invalid");
          await save([{ key: k, value: 1 }]);
          const got = await save([{ key: k, value: 2, etag: "not-an-etag" }]);
          expect(got.status).toBe(400);
          expect(errorCode(got)).toBe("ERR_STATE_SAVE");
          expect((await get(k)).json).toBe(1);
        });
      } else {
        it("ETags: any string is a well-formed ETag, so an unknown one is 409", async () => {
          const k = key("etag-unknown");
          await save([{ key: k, value: 1 }]);
          const got = await save([{ key: k, value: 2, etag: "not-an-etag" }]);
          expect(got.status).toBe(409);
          expect((await get(k)).json).toBe(1);
        });
      }

      it("ETags: first-write concurrency refuses a second insert of a new key", async () => {
        const k = key("first-write");
        const options = { concurrency: "first-write" };
        expect((await save([{ key: k, value: 1, options }])).status).toBe(204);
        const etag = (await get(k)).headers.get("etag") as string;
        expect((await save([{ key: k, value: 2, etag, options }])).status).toBe(204);
        const again = await save([{ key: k, value: 3, etag, options }]);
        expect(again.status).toBe(409);
      });
    }

    if (caps.has("TTL")) {
      it("TTL: ttlInSeconds expires the key and reads report ttlExpireTime", async () => {
        const k = key("ttl");
        const before = Date.now();
        expect(
          (await save([{ key: k, value: "short", metadata: { ttlInSeconds: "1" } }])).status,
        ).toBe(204);
        const got = await get(k);
        expect(got.status).toBe(200);
        const expireTime = got.headers.get("metadata.ttlexpiretime");
        expect(expireTime).toBeTruthy();
        const at = Date.parse(expireTime as string);
        expect(at).toBeGreaterThan(before - 1000);
        expect(at).toBeLessThan(before + 5000);
        await sleep(1000 + (config.ttlGraceMs ?? 2500));
        expect((await get(k)).status).toBe(204);
      });

      it("TTL: ttlInSeconds -1 and a later save without TTL keep the key", async () => {
        const k = key("ttl-none");
        await save([{ key: k, value: 1, metadata: { ttlInSeconds: "1" } }]);
        await save([{ key: k, value: 2, metadata: { ttlInSeconds: "-1" } }]);
        const got = await get(k);
        expect(got.headers.get("metadata.ttlexpiretime")).toBeNull();
        await sleep(1000 + (config.ttlGraceMs ?? 2500));
        expect((await get(k)).json).toBe(2);
      });

      it("TTL: a ttlInSeconds that is not a number is refused", async () => {
        const got = await save([
          { key: key("ttl-bad"), value: 1, metadata: { ttlInSeconds: "x" } },
        ]);
        // daprd: the store's parse error, answered as a failed save.
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_STATE_SAVE");
        expect(got.text).toContain("ttlInSeconds");
        expect((await get(key("ttl-bad"))).status).toBe(204);
      });
    } else {
      it("TTL is not declared: a save with ttlInSeconds is refused, not silently kept forever", async () => {
        const got = await save([
          { key: key("ttl-undeclared"), value: 1, metadata: { ttlInSeconds: "1" } },
        ]);
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_STATE_SAVE");
        expect(got.text).toContain("ttlInSeconds");
        expect((await get(key("ttl-undeclared"))).status).toBe(204);
      });
    }

    if (caps.has("TRANSACTIONAL")) {
      it("transactions: upserts and deletes apply together", async () => {
        const [a, b, c] = [key("tx-a"), key("tx-b"), key("tx-c")];
        await save([{ key: c, value: "doomed" }]);
        const got = await call(ctx.url(), "POST", `${base}/transaction`, {
          operations: [
            { operation: "upsert", request: { key: a, value: { tx: 1 } } },
            { operation: "upsert", request: { key: b, value: "two" } },
            { operation: "delete", request: { key: c } },
          ],
        });
        expect(got.status).toBe(204);
        expect((await get(a)).json).toEqual({ tx: 1 });
        expect((await get(b)).json).toBe("two");
        expect((await get(c)).status).toBe(204);
      });

      if (caps.has("ETAG")) {
        // daprd answers any failed transaction, a stale ETag included, with 500 ERR_STATE_TRANSACTION.
        it("transactions: a stale ETag fails the whole transaction (500) and nothing applies", async () => {
          const [a, b] = [key("txe-a"), key("txe-b")];
          await save([{ key: a, value: 1 }]);
          const first = (await get(a)).headers.get("etag") as string;
          await save([{ key: a, value: 2 }]);
          const got = await call(ctx.url(), "POST", `${base}/transaction`, {
            operations: [
              { operation: "upsert", request: { key: b, value: "must not land" } },
              { operation: "upsert", request: { key: a, value: 3, etag: first } },
            ],
          });
          expect(got.status).toBe(500);
          expect(errorCode(got)).toBe("ERR_STATE_TRANSACTION");
          expect((await get(a)).json).toBe(2);
          expect((await get(b)).status).toBe(204);
        });
      }

      it("transactions: an unknown operation is refused with 400 and nothing applies", async () => {
        const a = key("txu-a");
        const got = await call(ctx.url(), "POST", `${base}/transaction`, {
          operations: [
            { operation: "upsert", request: { key: a, value: 1 } },
            { operation: "merge", request: { key: a, value: 2 } },
          ],
        });
        expect(got.status).toBe(400);
        expect(errorCode(got)).toBe("ERR_NOT_SUPPORTED_STATE_OPERATION");
        expect((await get(a)).status).toBe(204);
      });
    } else {
      it("transactions are not declared: 500 ERR_STATE_STORE_NOT_SUPPORTED", async () => {
        const got = await call(ctx.url(), "POST", `${base}/transaction`, {
          operations: [{ operation: "upsert", request: { key: key("tx-none"), value: 1 } }],
        });
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_STATE_STORE_NOT_SUPPORTED");
      });
    }

    const queryPath = `/v1.0-alpha1/state/${STORE}/query`;
    if (caps.has("QUERY_API")) {
      it("query: EQ filter, sort and paging with a token", async () => {
        const docs = [3, 1, 2].map((n) => ({ key: key(`q-${n}`), value: { run: ctx.runId, n } }));
        expect((await save(docs)).status).toBe(204);
        await save([{ key: key("q-other"), value: { run: "someone-else", n: 0 } }]);
        const query = {
          filter: { EQ: { run: ctx.runId } },
          sort: [{ key: "n", order: "ASC" }],
          page: { limit: 2 },
        };
        const first = await call(ctx.url(), "POST", queryPath, query);
        expect(first.status).toBe(200);
        const page1 = first.json as { results: { key: string; data: unknown }[]; token?: string };
        expect(page1.results.map((r) => r.key)).toEqual([key("q-1"), key("q-2")]);
        expect(page1.results[0]?.data).toEqual({ run: ctx.runId, n: 1 });
        expect(page1.token).toBeTruthy();
        const second = await call(ctx.url(), "POST", queryPath, {
          ...query,
          page: { limit: 2, token: page1.token },
        });
        expect(second.status).toBe(200);
        const page2 = second.json as { results: { key: string }[] };
        expect(page2.results.map((r) => r.key)).toEqual([key("q-3")]);
      });
    } else {
      it("query is not declared: 500 ERR_STATE_STORE_NOT_SUPPORTED", async () => {
        const got = await call(ctx.url(), "POST", queryPath, { filter: { EQ: { run: "x" } } });
        expect(got.status).toBe(500);
        expect(errorCode(got)).toBe("ERR_STATE_STORE_NOT_SUPPORTED");
      });
    }
  });
}
