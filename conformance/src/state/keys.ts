import { expect } from "vitest";
import {
  eventually,
  expectAbsent,
  expectCode,
  expectNotSupported,
  expectStored,
  group,
  type StateSuiteContext,
  step,
} from "./context.ts";

const PREFIX_KEYS = [
  "prefix||key1",
  "prefix||key2",
  "prefix||prefix2||key3",
  "other-prefix||key1",
  "no-prefix",
] as const;

/** Case 25 (DELETE_WITH_PREFIX declared) and 26 (undeclared). */
export function describeDeleteWithPrefix(ctx: StateSuiteContext): void {
  const { store } = ctx;
  // The run id heads every key, so the prefixes below only ever reach this run's keys.
  const p = (key: string) => `${ctx.runId}-dwp-${key}`;

  if (!ctx.has("DELETE_WITH_PREFIX")) {
    group("DELETE_WITH_PREFIX (not declared)", () => {
      step("deleteWithPrefix rejects with ERR_NOT_SUPPORTED and deletes nothing (26)", async () => {
        await store.set({ key: p("prefix||key1"), value: "kept" });
        await expectNotSupported(
          store.deleteWithPrefix({ prefix: p("prefix||") }),
          "deleteWithPrefix",
        );
        await expectStored(store, p("prefix||key1"), "kept", "a rejected deleteWithPrefix");
      });
    });
    return;
  }

  group("DELETE_WITH_PREFIX", () => {
    step("set the prefix fixtures", async () => {
      for (const key of PREFIX_KEYS) await store.set({ key: p(key), value: key });
    });

    step("prefix `prefix||` deletes only its 2 direct children (25)", async () => {
      const res = await store.deleteWithPrefix({ prefix: p("prefix||") });
      expect(res.count, "deleted count").toBe(2);
      await expectAbsent(store, p("prefix||key1"), "direct child");
      await expectAbsent(store, p("prefix||key2"), "direct child");
      await expectStored(
        store,
        p("prefix||prefix2||key3"),
        "prefix||prefix2||key3",
        "a grandchild stays",
      );
      await expectStored(
        store,
        p("other-prefix||key1"),
        "other-prefix||key1",
        "another prefix stays",
      );
      await expectStored(store, p("no-prefix"), "no-prefix", "a key without || stays");
    });

    step("prefix `other-prefix` gets `||` appended and deletes 1 key (25)", async () => {
      const res = await store.deleteWithPrefix({ prefix: p("other-prefix") });
      expect(res.count, "deleted count").toBe(1);
      await expectAbsent(store, p("other-prefix||key1"), "child of other-prefix");
      await expectStored(
        store,
        p("no-prefix"),
        "no-prefix",
        "a key that merely starts with the text stays",
      );
    });

    step("a prefix with no children deletes nothing and counts 0", async () => {
      const res = await store.deleteWithPrefix({ prefix: p("nothing-here||") });
      expect(res.count).toBe(0);
    });

    step(
      'prefix "" and "||" reject with ERR_INVALID_REQUEST ("prefix is required") (25)',
      async () => {
        await expectCode(
          store.deleteWithPrefix({ prefix: "" }),
          "ERR_INVALID_REQUEST",
          'deleteWithPrefix("")',
        );
        await expectCode(
          store.deleteWithPrefix({ prefix: "||" }),
          "ERR_INVALID_REQUEST",
          'deleteWithPrefix("||")',
        );
        await expectStored(store, p("no-prefix"), "no-prefix", "nothing was deleted");
      },
    );
  });
}

const LIKE_KEYS = [...PREFIX_KEYS, "abc1", "abc2", "abc3", "abc33", "xyz1", "xyz2", "xyz3"];

/**
 * Case 27 (KEYS_LIKE declared) and 28 (undeclared). Dapr clears the store first; this suite puts a
 * per-run prefix (a UUID without dashes, so no LIKE metacharacters) in every key and pattern, so
 * the expected sets are exact even on a store other runs share.
 */
export function describeKeysLike(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const base = `${ctx.runId}-kl-`;
  const p = (key: string) => `${base}${key}`;
  const like = async (pattern: string, pageSize?: number, continuationToken?: string) =>
    store.keysLike({
      pattern: `${base}${pattern}`,
      ...(pageSize !== undefined ? { pageSize } : {}),
      ...(continuationToken !== undefined ? { continuationToken } : {}),
    });
  const sorted = (keys: readonly string[]) => [...keys].sort();

  if (!ctx.has("KEYS_LIKE")) {
    group("KEYS_LIKE (not declared)", () => {
      step("keysLike rejects with ERR_NOT_SUPPORTED (28)", async () => {
        await expectNotSupported(store.keysLike({ pattern: `${base}%` }), "keysLike");
      });
    });
    return;
  }

  group("KEYS_LIKE", () => {
    step("an empty pattern rejects with ERR_INVALID_REQUEST (27)", async () => {
      await expectCode(store.keysLike({ pattern: "" }), "ERR_INVALID_REQUEST", "keysLike('')");
    });

    step("set 12 keys; `%` returns all 12 and no token (27)", async () => {
      await store.bulkSet(LIKE_KEYS.map((key) => ({ key: p(key), value: key })));
      const res = await like("%");
      expect(sorted(res.keys)).toEqual(sorted(LIKE_KEYS.map(p)));
      expect(res.continuationToken ?? null, "a complete result has no token").toBeNull();
    });

    const matrix: [string, string[]][] = [
      ["prefix||%", ["prefix||key1", "prefix||key2", "prefix||prefix2||key3"]],
      ["%key1", ["prefix||key1", "other-prefix||key1"]],
      ["%||%", ["prefix||key1", "prefix||key2", "prefix||prefix2||key3", "other-prefix||key1"]],
      ["%||%||%", ["prefix||prefix2||key3"]],
      ["abc_", ["abc1", "abc2", "abc3"]],
      ["abc__", ["abc33"]],
      ["xyz%", ["xyz1", "xyz2", "xyz3"]],
      ["nothing%", []],
    ];
    step("the match matrix: %, _ and || patterns return exact key sets (27)", async () => {
      for (const [pattern, expected] of matrix) {
        const res = await like(pattern);
        expect(sorted(res.keys), `pattern ${pattern}`).toEqual(sorted(expected.map(p)));
      }
    });

    step(
      "paging: size 6 → 6 + token, size 5 → 5 + token, size 100 → 1 and no token (27)",
      async () => {
        const first = await like("%", 6);
        expect(first.keys, "page 1").toHaveLength(6);
        expect(first.continuationToken, "page 1 token").toBeTruthy();
        const second = await like("%", 5, first.continuationToken);
        expect(second.keys, "page 2").toHaveLength(5);
        expect(second.continuationToken, "page 2 token").toBeTruthy();
        const third = await like("%", 100, second.continuationToken);
        expect(third.keys, "page 3").toHaveLength(1);
        expect(third.continuationToken ?? null, "the last page has no token").toBeNull();
        const all = [...first.keys, ...second.keys, ...third.keys];
        expect(sorted(all), "the pages together hold every key exactly once").toEqual(
          sorted(LIKE_KEYS.map(p)),
        );
      },
    );

    step("no token restarts: the first page is the same again (27)", async () => {
      const a = await like("%", 6);
      await like("%", 6, a.continuationToken);
      const b = await like("%", 6);
      expect(b.keys).toEqual(a.keys);
    });

    step("escapes: \\_ and \\% match themselves, \\\\ a backslash (27)", async () => {
      const keys = ["hello_", "helloX", "hello%%", "hello%x", "back\\slash"];
      await store.bulkSet(keys.map((key) => ({ key: p(`esc-${key}`), value: key })));
      const cases: [string, string[]][] = [
        ["esc-hello\\_", ["hello_"]],
        ["esc-hello_", ["hello_", "helloX"]],
        ["esc-hello%\\%", ["hello%%"]],
        ["esc-hello\\%\\%", ["hello%%"]],
        ["esc-hello\\%%", ["hello%%", "hello%x"]],
        ["esc-back\\\\slash", ["back\\slash"]],
      ];
      for (const [pattern, expected] of cases) {
        const res = await like(pattern);
        expect(sorted(res.keys), `pattern ${pattern}`).toEqual(
          sorted(expected.map((k) => p(`esc-${k}`))),
        );
      }
    });

    step("a token survives deletes and inserts: no duplicates, no lost keys (27)", async () => {
      const keys = Array.from({ length: 10 }, (_, i) => `tok-${String(i).padStart(2, "0")}`);
      await store.bulkSet(keys.map((key) => ({ key: p(key), value: key })));
      const first = await like("tok-%", 5);
      expect(first.keys).toHaveLength(5);
      expect(first.continuationToken).toBeTruthy();
      const rest = keys.map(p).filter((k) => !first.keys.includes(k));
      const deleted = rest[0] as string;
      await store.delete({ key: deleted });
      await store.delete({ key: first.keys[0] as string });
      await store.set({ key: p("tok-99-inserted"), value: "late" });
      const second = await like("tok-%", 100, first.continuationToken);
      expect(second.continuationToken ?? null, "the last page has no token").toBeNull();
      for (const k of second.keys) expect(first.keys, `${k} returned twice`).not.toContain(k);
      expect(second.keys, "a key deleted before its page is not returned").not.toContain(deleted);
      for (const k of rest.slice(1)) expect(second.keys, `${k} must not be lost`).toContain(k);
    });

    const many = ctx.options.keysLikeManyKeys;
    step(
      `no default page limit: all ${many} keys come back in one call (27)`,
      async () => {
        const keys = Array.from({ length: many }, (_, i) => p(`many-${i}`));
        await store.bulkSet(keys.map((key) => ({ key, value: 1 })));
        const res = await like("many-%");
        expect(res.keys.length).toBe(many);
        expect(res.continuationToken ?? null).toBeNull();
        await store.bulkDelete(keys.map((key) => ({ key })));
        expect((await like("many-%")).keys).toEqual([]);
      },
      60_000,
    );

    if (ctx.has("TTL")) {
      step(
        "keys with ttl=1 disappear from keysLike (27)",
        async () => {
          await store.set({ key: p("ttl-short-1"), value: 1, metadata: { ttlInSeconds: "1" } });
          await store.set({ key: p("ttl-short-2"), value: 2, metadata: { ttlInSeconds: "1" } });
          await store.set({ key: p("ttl-long"), value: 3 });
          expect(sorted((await like("ttl-%")).keys)).toEqual(
            sorted(["ttl-long", "ttl-short-1", "ttl-short-2"].map(p)),
          );
          const gone = await eventually(async () => (await like("ttl-%")).keys.length === 1, 5000);
          expect(gone, "expired keys must leave keysLike within 5 s").toBe(true);
          expect((await like("ttl-%")).keys).toEqual([p("ttl-long")]);
        },
        20_000,
      );
    }
  });
}
