import { STATE_CAPABILITIES, type StateOptions, valueKind } from "@outrig/core";
import { expect } from "vitest";
import {
  expectAbsent,
  expectBulkError,
  expectCode,
  expectStored,
  expectValue,
  group,
  type StateSuiteContext,
  step,
} from "./context.ts";
import { bulkFixtures, PROTO_BYTES, regularFixtures } from "./fixtures.ts";

/** Cases 1–2 and the declared capability set itself. */
export function describeLifecycle(ctx: StateSuiteContext): void {
  const { store } = ctx;
  group("lifecycle", () => {
    step("init: create() returns a store whose capabilities are all known names (1)", () => {
      expect(store.capabilities, "capabilities must be a Set").toBeInstanceOf(Set);
      for (const cap of store.capabilities) {
        expect(STATE_CAPABILITIES, `unknown capability ${cap}`).toContain(cap);
      }
    });

    step("ping resolves (2)", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    if (ctx.has("ACTOR")) {
      step("ACTOR: an actor store also declares ETAG and TRANSACTIONAL", () => {
        expect(ctx.has("ETAG"), "ACTOR needs ETAG").toBe(true);
        expect(ctx.has("TRANSACTIONAL"), "ACTOR needs TRANSACTIONAL").toBe(true);
      });
    }

    if (ctx.has("PARTITION_KEY")) {
      step("PARTITION_KEY: set/get/delete scoped by partitionKey metadata", async () => {
        const key = ctx.key("partition");
        const metadata = { partitionKey: `${ctx.runId}-p` };
        await store.set({ key, value: "in partition", metadata });
        const res = await store.get({ key, metadata });
        expectValue(res.data, "in partition", "get in the same partition");
        await store.delete({ key, metadata });
        expect((await store.get({ key, metadata })).data ?? null).toBeNull();
      });
    } else {
      step("no PARTITION_KEY: partitionKey metadata is accepted and ignored", async () => {
        const key = ctx.key("partition");
        await store.set({ key, value: "anywhere", metadata: { partitionKey: `${ctx.runId}-p` } });
        await expectStored(store, key, "anywhere", "get without partitionKey");
        await store.delete({ key, metadata: { partitionKey: `${ctx.runId}-p` } });
        await expectAbsent(store, key, "after delete with partitionKey");
      });
    }
  });
}

/** Cases 3, 4, 5 and 8, plus request validation and value isolation. */
export function describeCrud(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const fixtures = regularFixtures(`${ctx.runId}-crud`);
  const k = (suffix: string) => ctx.key(`crud-${suffix}`);

  group("crud", () => {
    step("set every regular fixture (3)", async () => {
      for (const f of fixtures) {
        await store.set({ key: k(f.suffix), value: f.value, metadata: f.metadata });
      }
    });

    step("get every regular fixture: bytes verbatim, the rest JSON-equal (4)", async () => {
      for (const f of fixtures) {
        const res = await store.get({ key: k(f.suffix), metadata: f.metadata });
        expectValue(res, f.value, `get ${f.suffix}`);
      }
    });

    step(
      ctx.options.valueKind
        ? "values keep their kind: JSON reads back as JSON, bytes as bytes, even bytes that are JSON text"
        : "the layout does not record kinds, so reads claim none; bytes that are JSON text stay verbatim",
      async () => {
        const jsonBytes = new TextEncoder().encode('{"looks":"like json"}');
        await store.set({ key: k("kind-bytes"), value: jsonBytes });
        await store.set({ key: k("kind-json"), value: { looks: "like json" } });
        await store.set({ key: k("kind-json-string"), value: '{"looks":"like json"}' });
        const bytes = await store.get({ key: k("kind-bytes") });
        const json = await store.get({ key: k("kind-json") });
        const text = await store.get({ key: k("kind-json-string") });
        expectValue(bytes.data, jsonBytes, "bytes that are JSON text");
        expectValue(json.data, { looks: "like json" }, "a JSON object");
        expectValue(text.data, '{"looks":"like json"}', "a JSON string that looks like an object");
        const kinds = [bytes.kind, json.kind, text.kind];
        expect(kinds, "the kind of each read").toEqual(
          ctx.options.valueKind ? ["bytes", "json", "json"] : [undefined, undefined, undefined],
        );
        for (const f of fixtures.filter((f) => f.suffix !== "to-be-deleted")) {
          const res = await store.get({ key: k(f.suffix) });
          expect(res.kind, `kind of ${f.suffix}`).toBe(
            ctx.options.valueKind ? valueKind(f.value) : undefined,
          );
        }
      },
    );

    step("a string is stored as its JSON encoding, quotes included (§1.6)", async () => {
      const res = await store.get({ key: k("string") });
      expect(new TextDecoder().decode(res.data ?? new Uint8Array())).toBe('"hello world"');
      const empty = await store.get({ key: k("empty-string") });
      expect(new TextDecoder().decode(empty.data ?? new Uint8Array())).toBe('""');
    });

    step("protobuf bytes with 0xff come back byte-exact (5)", async () => {
      await store.set({ key: k("proto"), value: PROTO_BYTES });
      expectValue(await store.get({ key: k("proto") }), PROTO_BYTES, "proto round trip");
    });

    step("a plain set overwrites (last-write is the default)", async () => {
      await store.set({ key: k("overwrite"), value: "v1" });
      await store.set({ key: k("overwrite"), value: "v2" });
      await store.set({ key: k("overwrite"), value: "v3", options: { concurrency: "last-write" } });
      await expectStored(store, k("overwrite"), "v3", "after three writes");
    });

    step(
      "delete the to-be-deleted key and two never-written keys; reads then return null (8)",
      async () => {
        await store.delete({ key: k("to-be-deleted") });
        await store.delete({ key: k("never-written-1") });
        await store.delete({ key: k("never-written-2"), options: { concurrency: "first-write" } });
        await expectAbsent(store, k("to-be-deleted"), "deleted key");
        await expectAbsent(store, k("never-written-1"), "never-written key");
      },
    );

    step("get of a missing key returns null data and no etag", async () => {
      const res = await store.get({ key: k("does-not-exist") });
      expect(res.data ?? null).toBeNull();
      expect(res.etag ?? "", "a missing key has no etag").toBe("");
    });

    step("stored bytes are not shared with the caller's buffers", async () => {
      const input = new Uint8Array([1, 2, 3]);
      await store.set({ key: k("isolation"), value: input });
      input[0] = 9;
      const first = await store.get({ key: k("isolation") });
      expectValue(first.data, new Uint8Array([1, 2, 3]), "after mutating the written buffer");
      (first.data as Uint8Array)[1] = 9;
      const second = await store.get({ key: k("isolation") });
      expectValue(second.data, new Uint8Array([1, 2, 3]), "after mutating a read buffer");
    });

    step(
      "unknown concurrency or consistency values reject with ERR_INVALID_REQUEST (§1.3)",
      async () => {
        const bad = (options: unknown) => options as StateOptions;
        await expectCode(
          store.set({
            key: k("bad-options"),
            value: 1,
            options: bad({ concurrency: "sometimes" }),
          }),
          "ERR_INVALID_REQUEST",
          "set with concurrency=sometimes",
        );
        await expectCode(
          store.get({ key: k("bad-options"), options: bad({ consistency: "immediate" }) }),
          "ERR_INVALID_REQUEST",
          "get with consistency=immediate",
        );
        await expectCode(
          store.delete({ key: k("bad-options"), options: bad({ consistency: "immediate" }) }),
          "ERR_INVALID_REQUEST",
          "delete with consistency=immediate",
        );
        await expectAbsent(store, k("bad-options"), "a rejected set writes nothing");
      },
    );

    step("strong consistency is accepted on get, set and delete", async () => {
      await store.set({ key: k("strong"), value: "s", options: { consistency: "strong" } });
      const res = await store.get({ key: k("strong"), options: { consistency: "strong" } });
      expectValue(res.data, "s", "strong read");
      await store.delete({ key: k("strong"), options: { consistency: "strong" } });
      await expectAbsent(store, k("strong"), "after strong delete");
    });
  });
}

/** Cases 9–11, plus the non-atomic, per-key failure rule of bulk writes (§1.5). */
export function describeBulk(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const fixtures = bulkFixtures();
  const k = (suffix: string) => ctx.key(`bulk-${suffix}`);

  group("bulk", () => {
    step("bulkSet the bulk fixtures; each reads back equal (9)", async () => {
      await store.bulkSet(
        fixtures.map((f) => ({ key: k(f.suffix), value: f.value, metadata: f.metadata })),
      );
      for (const f of fixtures)
        await expectStored(store, k(f.suffix), f.value, `after bulkSet ${f.suffix}`);
    });

    step("bulkGet all bulk keys: one item each, empty error, equal data (10a)", async () => {
      const items = await store.bulkGet(fixtures.map((f) => ({ key: k(f.suffix) })));
      expect(items.map((i) => i.key).sort()).toEqual(fixtures.map((f) => k(f.suffix)).sort());
      for (const f of fixtures) {
        const item = items.find((i) => i.key === k(f.suffix));
        expect(item?.error ?? "", `bulkGet ${f.suffix} error`).toBe("");
        expectValue(item, f.value, `bulkGet ${f.suffix}`);
      }
    });

    step(
      "bulkGet an existing and a missing key: the missing one has null data and no error (10b)",
      async () => {
        const items = await store.bulkGet([{ key: k("bulk-int") }, { key: k("doesnotexist") }]);
        expect(items).toHaveLength(2);
        const missing = items.find((i) => i.key === k("doesnotexist"));
        expect(missing, "an item for the missing key").toBeDefined();
        expect(missing?.data ?? null).toBeNull();
        expect(missing?.error ?? "").toBe("");
        expect(missing?.etag ?? "", "a missing key has no etag").toBe("");
        expectValue(items.find((i) => i.key === k("bulk-int"))?.data, 123, "the existing key");
      },
    );

    step("bulkDelete two keys; they are gone afterwards (11)", async () => {
      await store.bulkDelete([
        { key: k("bulk-to-be-deleted") },
        { key: k("bulk-to-be-deleted-too") },
      ]);
      await expectAbsent(store, k("bulk-to-be-deleted"), "after bulkDelete");
      await expectAbsent(store, k("bulk-to-be-deleted-too"), "after bulkDelete");
      await expectStored(store, k("bulk-int"), 123, "a key not in the bulkDelete");
    });

    step(
      "bulkSet is not atomic: a first-write conflict fails only its key, the others are written",
      async () => {
        await store.set({ key: k("taken"), value: "original" });
        const bulk = await expectBulkError(
          store.bulkSet([
            { key: k("fresh-1"), value: "fresh 1", options: { concurrency: "first-write" } },
            { key: k("taken"), value: "overwritten", options: { concurrency: "first-write" } },
            { key: k("fresh-2"), value: "fresh 2", options: { concurrency: "first-write" } },
          ]),
          [k("taken")],
          "bulkSet with one first-write conflict",
        );
        expect(bulk.code).toBe("ERR_BULK");
        await expectStored(store, k("taken"), "original", "the conflicting key keeps its value");
        await expectStored(store, k("fresh-1"), "fresh 1", "a key before the failing one");
        await expectStored(store, k("fresh-2"), "fresh 2", "a key after the failing one");
      },
    );

    step("bulkSet rejects an invalid ttlInSeconds per key, writing the valid items", async () => {
      await expectBulkError(
        store.bulkSet([
          { key: k("ttl-ok"), value: "ok" },
          { key: k("ttl-bad"), value: "bad", metadata: { ttlInSeconds: "foo" } },
        ]),
        [k("ttl-bad")],
        "bulkSet with one invalid ttlInSeconds",
      );
      await expectStored(store, k("ttl-ok"), "ok", "the valid item");
      await expectAbsent(store, k("ttl-bad"), "the invalid item");
    });

    step("bulk operations honour parallelism 1 and empty request lists", async () => {
      await store.bulkSet(
        [1, 2, 3].map((n) => ({ key: k(`serial-${n}`), value: n })),
        { parallelism: 1 },
      );
      const items = await store.bulkGet(
        [1, 2, 3].map((n) => ({ key: k(`serial-${n}`) })),
        { parallelism: 1 },
      );
      expect(
        items.map((i) => JSON.parse(new TextDecoder().decode(i.data ?? new Uint8Array()))).sort(),
      ).toEqual([1, 2, 3]);
      await store.bulkDelete(
        [1, 2, 3].map((n) => ({ key: k(`serial-${n}`) })),
        { parallelism: 1 },
      );
      for (const n of [1, 2, 3])
        await expectAbsent(store, k(`serial-${n}`), "after serial bulkDelete");
      await expect(store.bulkSet([])).resolves.toBeUndefined();
      await expect(store.bulkDelete([])).resolves.toBeUndefined();
      await expect(store.bulkGet([])).resolves.toEqual([]);
    });
  });
}
