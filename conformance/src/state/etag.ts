import { expect } from "vitest";
import {
  expectAbsent,
  expectBulkError,
  expectETagError,
  expectNotSupported,
  expectStored,
  group,
  type StateSuiteContext,
  step,
} from "./context.ts";

/** Cases 17 (ETAG declared) and 18 (undeclared). */
export function describeEtag(ctx: StateSuiteContext): void {
  const { store, badEtag } = ctx;
  const k = (n: number) => ctx.key(`etag-k${n}`);

  if (!ctx.has("ETAG")) {
    group("ETAG (not declared)", () => {
      step("set and delete with an etag reject with ERR_NOT_SUPPORTED (18)", async () => {
        await store.set({ key: k(0), value: "v" });
        await expectNotSupported(
          store.set({ key: k(0), value: "w", etag: badEtag }),
          "set with an etag",
        );
        await expectNotSupported(store.delete({ key: k(0), etag: badEtag }), "delete with an etag");
        await expectStored(store, k(0), "v", "a rejected etag write changes nothing");
      });
    });
    return;
  }

  group("ETAG", () => {
    const etags = new Map<number, string>();
    const read = async (n: number): Promise<string> => {
      const res = await store.get({ key: k(n) });
      expect(res.etag, `k${n} must have a non-empty etag`).toBeTruthy();
      return res.etag as string;
    };

    step("bulkSet four new keys without etags (17a)", async () => {
      await store.bulkSet([0, 1, 2, 3].map((n) => ({ key: k(n), value: `v${n}` })));
    });

    step("get and bulkGet return non-empty etags (17b)", async () => {
      for (const n of [0, 1, 2, 3]) etags.set(n, await read(n));
      const items = await store.bulkGet([0, 1, 2, 3].map((n) => ({ key: k(n) })));
      for (const n of [0, 1, 2, 3]) {
        const item = items.find((i) => i.key === k(n));
        expect(item?.etag, `bulkGet etag of k${n}`).toBe(etags.get(n));
      }
    });

    step("set with a bad etag rejects with ETagError mismatch (17c)", async () => {
      await expectETagError(
        store.set({ key: k(0), value: "bad", etag: badEtag }),
        "mismatch",
        "set k0 with badEtag",
      );
      await expectStored(store, k(0), "v0", "k0 after the rejected set");
    });

    step("set with the right etag succeeds and the etag changes (17d)", async () => {
      await store.set({ key: k(0), value: "v0-2", etag: etags.get(0) });
      const next = await read(0);
      expect(next, "a write must produce a new etag").not.toBe(etags.get(0));
      await expectStored(store, k(0), "v0-2", "k0 after the etag write");
      etags.set(0, next);
    });

    step(
      "bulkSet [k1 bad etag, k2 good etag]: one BulkError item for k1, k2 updated (17e)",
      async () => {
        await expectBulkError(
          store.bulkSet([
            { key: k(1), value: "v1-2", etag: badEtag },
            { key: k(2), value: "v2-2", etag: etags.get(2) },
          ]),
          [k(1)],
          "bulkSet with one bad etag",
          "mismatch",
        );
        await expectStored(store, k(1), "v1", "k1 keeps its value");
        expect(await read(1), "k1 keeps the same etag").toBe(etags.get(1));
        await expectStored(store, k(2), "v2-2", "k2 is updated");
        const next = await read(2);
        expect(next).not.toBe(etags.get(2));
        etags.set(2, next);
      },
    );

    step("bulkSet k1 and k2 with valid etags succeeds with fresh etags (17f)", async () => {
      await store.bulkSet([
        { key: k(1), value: "v1-3", etag: etags.get(1) },
        { key: k(2), value: "v2-3", etag: etags.get(2) },
      ]);
      for (const n of [1, 2]) {
        const next = await read(n);
        expect(next, `k${n} gets a fresh etag`).not.toBe(etags.get(n));
        etags.set(n, next);
        await expectStored(store, k(n), `v${n}-3`, `k${n} after bulkSet with etags`);
      }
    });

    step("delete with a bad etag rejects with an ETagError (17g)", async () => {
      await expectETagError(
        store.delete({ key: k(0), etag: badEtag }),
        undefined,
        "delete k0 with badEtag",
      );
      await expectStored(store, k(0), "v0-2", "k0 survives the rejected delete");
    });

    step("delete with the right etag succeeds; get returns no data and no etag (17h)", async () => {
      await store.delete({ key: k(0), etag: etags.get(0) });
      await expectAbsent(store, k(0), "k0 after delete");
    });

    step(
      "bulkDelete [k1 good, k2 bad]: one BulkError item for k2; k1 gone, k2 unchanged (17i)",
      async () => {
        await expectBulkError(
          store.bulkDelete([
            { key: k(1), etag: etags.get(1) },
            { key: k(2), etag: badEtag },
          ]),
          [k(2)],
          "bulkDelete with one bad etag",
          "mismatch",
        );
        await expectAbsent(store, k(1), "k1 after bulkDelete");
        await expectStored(store, k(2), "v2-3", "k2 keeps its value");
        expect(await read(2), "k2 keeps its etag").toBe(etags.get(2));
      },
    );

    step(
      "bulkDelete k2 and k3 with their etags; bulkGet shows no data and no etags (17j)",
      async () => {
        etags.set(3, await read(3));
        await store.bulkDelete([
          { key: k(2), etag: etags.get(2) },
          { key: k(3), etag: etags.get(3) },
        ]);
        const items = await store.bulkGet([{ key: k(2) }, { key: k(3) }]);
        expect(items).toHaveLength(2);
        for (const item of items) {
          expect(item.data ?? null, `${item.key} data`).toBeNull();
          expect(item.etag ?? "", `${item.key} etag`).toBe("");
        }
      },
    );

    step("an etag on a missing key is a mismatch for set and delete", async () => {
      await expectETagError(
        store.set({ key: ctx.key("etag-missing"), value: "x", etag: badEtag }),
        "mismatch",
        "set a missing key with an etag",
      );
      await expectAbsent(store, ctx.key("etag-missing"), "no insert through an etag write");
      await expectETagError(
        store.delete({ key: ctx.key("etag-missing"), etag: badEtag }),
        undefined,
        "delete a missing key with an etag",
      );
    });

    step('an empty etag "" counts as no etag (§1.2)', async () => {
      await store.set({ key: ctx.key("etag-empty"), value: "a" });
      await store.set({ key: ctx.key("etag-empty"), value: "b", etag: "" });
      await expectStored(store, ctx.key("etag-empty"), "b", 'after a write with etag ""');
      await store.delete({ key: ctx.key("etag-empty"), etag: "" });
      await expectAbsent(store, ctx.key("etag-empty"), 'after a delete with etag ""');
    });
  });
}

/** Cases 19 and 20: first-write is an operation every store supports. */
export function describeFirstWrite(ctx: StateSuiteContext): void {
  const { store } = ctx;

  group("first-write", () => {
    for (const [label, etag] of [
      ["etag unset", undefined],
      ['etag ""', ""],
    ] as const) {
      step(
        `first-write without an etag inserts once, then rejects with ETagError mismatch (19, ${label})`,
        async () => {
          const key = ctx.key(`first-write-${etag === undefined ? "unset" : "empty"}`);
          await store.delete({ key });
          await store.set({
            key,
            value: "v1",
            etag,
            options: { concurrency: "first-write", consistency: "strong" },
          });
          await expectStored(store, key, "v1", "after the first write");
          await expectETagError(
            store.set({
              key,
              value: "v2",
              etag,
              options: { concurrency: "first-write", consistency: "strong" },
            }),
            "mismatch",
            "second first-write",
          );
          await expectStored(store, key, "v1", "the second first-write must not overwrite");
        },
      );
    }

    step("first-write succeeds again after the key was deleted", async () => {
      const key = ctx.key("first-write-deleted");
      await store.set({ key, value: "v1", options: { concurrency: "first-write" } });
      await store.delete({ key });
      await store.set({ key, value: "v2", options: { concurrency: "first-write" } });
      await expectStored(store, key, "v2", "first-write after delete");
    });

    if (ctx.has("ETAG")) {
      step("first-write with the current etag succeeds; a stale etag then fails (20)", async () => {
        const key = ctx.key("first-write-etag");
        await store.set({ key, value: "v1" });
        const e1 = (await store.get({ key })).etag;
        expect(e1, "etag after a plain set").toBeTruthy();
        await store.set({ key, value: "v2", etag: e1, options: { concurrency: "first-write" } });
        const e2 = (await store.get({ key })).etag;
        expect(e2, "the etag changes").not.toBe(e1);
        await expectETagError(
          store.set({ key, value: "v3", etag: e1, options: { concurrency: "first-write" } }),
          "mismatch",
          "first-write with the stale etag",
        );
        await expectStored(store, key, "v2", "the stale write must not land");
      });
    } else {
      step(
        "first-write with an etag rejects with ERR_NOT_SUPPORTED without ETAG (20)",
        async () => {
          const key = ctx.key("first-write-etag");
          await store.set({ key, value: "v1" });
          await expectNotSupported(
            store.set({
              key,
              value: "v2",
              etag: ctx.badEtag,
              options: { concurrency: "first-write" },
            }),
            "first-write with an etag",
          );
        },
      );
    }
  });
}
