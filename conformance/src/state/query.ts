import { type Query, type QueryResponse, tryDecodeJson } from "@outrig/core";
import { expect } from "vitest";
import {
  expectCode,
  expectNotSupported,
  expectValue,
  group,
  JSON_METADATA,
  type StateSuiteContext,
  step,
} from "./context.ts";
import { regularFixtures } from "./fixtures.ts";

const QUERY_METADATA = { ...JSON_METADATA, queryIndexName: "qIndx" };

/**
 * Case 6 (QUERY_API declared) and 7 (undeclared). The fixtures' message strings carry the run id,
 * so the filters match only this run's documents even on a store shared with other runs.
 */
export function describeQuery(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const tag = ctx.runId;
  const k = (suffix: string) => ctx.key(`query-${suffix}`);
  const fixtures = regularFixtures(tag);
  const fixtureValue = (suffix: string) => fixtures.find((f) => f.suffix === suffix)?.value;
  const query = (q: Query, metadata: Record<string, string> = QUERY_METADATA) =>
    store.query({ query: q, metadata });

  if (!ctx.has("QUERY_API")) {
    group("QUERY_API (not declared)", () => {
      step("query rejects with ERR_NOT_SUPPORTED (7)", async () => {
        await expectNotSupported(query({ filter: { EQ: { message: `test<b>${tag}` } } }), "query");
      });
    });
    return;
  }

  const expectKeys = (res: QueryResponse, suffixes: string[], what: string) => {
    expect(
      res.results.map((r) => r.key),
      `${what}: keys in ascending key order`,
    ).toEqual(suffixes.map(k));
    res.results.forEach((r, i) => {
      expectValue(r.data, fixtureValue(suffixes[i] as string), `${what}: data of ${r.key}`);
    });
  };

  group("QUERY_API", () => {
    step("set the JSON query fixtures (3, query keys)", async () => {
      for (const f of fixtures) {
        await store.set({ key: k(f.suffix), value: f.value, metadata: f.metadata });
      }
    });

    step("OR(EQ message dummy, IN message [test<b>, dummy]) → [struct] (6a)", async () => {
      const res = await query({
        filter: {
          OR: [{ EQ: { message: "dummy" } }, { IN: { message: [`test<b>${tag}`, "dummy"] } }],
        },
      });
      expectKeys(res, ["struct"], "6a");
    });

    step(
      "AND(EQ message, GTE product.value 10, LT 20, NEQ status INACTIVE) → [struct-operations] (6b)",
      async () => {
        const res = await query({
          filter: {
            AND: [
              { EQ: { message: `<b>message${tag}` } },
              { GTE: { "product.value": 10 } },
              { LT: { "product.value": 20 } },
              { NEQ: { status: "INACTIVE" } },
            ],
          },
        });
        expectKeys(res, ["struct-operations"], "6b");
      },
    );

    step(
      "OR(AND(.., GT 11.1, INACTIVE), AND(.., LTE 0.5, ACTIVE)) → [struct-operations-inactive] (6c)",
      async () => {
        const res = await query({
          filter: {
            OR: [
              {
                AND: [
                  { EQ: { message: `<b>message${tag}` } },
                  { GT: { "product.value": 11.1 } },
                  { EQ: { status: "INACTIVE" } },
                ],
              },
              {
                AND: [
                  { EQ: { message: `<b>message${tag}` } },
                  { LTE: { "product.value": 0.5 } },
                  { EQ: { status: "ACTIVE" } },
                ],
              },
            ],
          },
        });
        expectKeys(res, ["struct-operations-inactive"], "6c");
      },
    );

    step(
      "OR(EQ message <b>test, IN [test<b>, dummy]) → [struct, struct-2] in key order (6d)",
      async () => {
        const res = await query({
          filter: {
            OR: [
              { EQ: { message: `<b>test${tag}` } },
              { IN: { message: [`test<b>${tag}`, "dummy"] } },
            ],
          },
        });
        expectKeys(res, ["struct", "struct-2"], "6d");
      },
    );

    if (ctx.has("PARTITION_KEY")) {
      step("6d with partitionKey → only the partition's item (6e)", async () => {
        await store.set({
          key: k("struct-2"),
          value: fixtureValue("struct-2"),
          metadata: { ...JSON_METADATA, partitionKey: k("struct-2") },
        });
        const res = await query(
          {
            filter: {
              OR: [
                { EQ: { message: `<b>test${tag}` } },
                { IN: { message: [`test<b>${tag}`, "dummy"] } },
              ],
            },
          },
          { ...QUERY_METADATA, partitionKey: k("struct-2") },
        );
        expectKeys(res, ["struct-2"], "6e");
      });
    }

    step("sort DESC by product.value orders the results", async () => {
      const res = await query({
        filter: { EQ: { message: `<b>message${tag}` } },
        sort: [{ key: "product.value", order: "DESC" }],
      });
      expect(res.results.map((r) => r.key)).toEqual([
        k("struct-operations"),
        k("struct-operations-inactive"),
      ]);
      const asc = await query({
        filter: { EQ: { message: `<b>message${tag}` } },
        sort: [{ key: "product.value", order: "ASC" }],
      });
      expect(asc.results.map((r) => r.key)).toEqual([
        k("struct-operations-inactive"),
        k("struct-operations"),
      ]);
    });

    step(
      "paging with limit 1 walks every result once via tokens; the last page has no token",
      async () => {
        const filter = {
          IN: { message: [`test<b>${tag}`, `<b>test${tag}`, `<b>message${tag}`] },
        };
        const seen: string[] = [];
        let token: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const res = await query({ filter, page: { limit: 1, ...(token ? { token } : {}) } });
          expect(res.results.length, "one result per page").toBeLessThanOrEqual(1);
          seen.push(...res.results.map((r) => r.key));
          token = res.token;
          if (!token) break;
        }
        expect(token, "the last page has no token").toBeFalsy();
        expect(seen).toEqual(
          ["struct", "struct-2", "struct-operations", "struct-operations-inactive"].map(k).sort(),
        );
      },
    );

    step(
      "keyPrefix narrows the matches before paging: limit 1 pages through only prefixed keys",
      async () => {
        const filter = {
          IN: { message: [`test<b>${tag}`, `<b>test${tag}`, `<b>message${tag}`] },
        };
        // Of the four matching documents only the two struct-operations* keys carry this prefix;
        // a store that pages first and filters later would answer "struct" on page 1.
        const keyPrefix = k("struct-operations");
        const seen: string[] = [];
        let token: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const res = await store.query({
            query: { filter, page: { limit: 1, ...(token ? { token } : {}) } },
            metadata: QUERY_METADATA,
            keyPrefix,
          });
          expect(res.results.length, "one result per page").toBe(1);
          seen.push(...res.results.map((r) => r.key));
          token = res.token;
          if (!token) break;
        }
        expect(seen).toEqual([k("struct-operations"), k("struct-operations-inactive")]);
      },
    );

    step("results carry data and the item's etag when ETAG is declared", async () => {
      const res = await query({ filter: { EQ: { message: `test<b>${tag}` } } });
      expect(res.results).toHaveLength(1);
      const item = res.results[0];
      expect(tryDecodeJson(item?.data as Uint8Array)).toEqual(fixtureValue("struct"));
      if (ctx.has("ETAG")) {
        expect(item?.etag, "query etag equals get etag").toBe(
          (await store.get({ key: k("struct") })).etag,
        );
      }
    });

    step("an unknown filter operator rejects with ERR_INVALID_REQUEST", async () => {
      await expectCode(
        query({ filter: { LIKE: { message: "x" } } as unknown as Query["filter"] }),
        "ERR_INVALID_REQUEST",
        "query with operator LIKE",
      );
    });
  });
}
