import { decodeJson, type TransactionOperation, utf8 } from "@outrig/core";
import { expect } from "vitest";
import {
  expectAbsent,
  expectETagError,
  expectNotSupported,
  expectStored,
  group,
  JSON_METADATA,
  type StateSuiteContext,
  step,
} from "./context.ts";

const PARTITION = { partitionKey: "myPartition" };

/** Cases 12–15 (TRANSACTIONAL declared) and 16 (undeclared). */
export function describeTransactions(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const k = (suffix: string) => ctx.key(`trx-${suffix}`);
  const upsert = (
    key: string,
    value: unknown,
    extra: Partial<TransactionOperation["request"]> = {},
  ) => ({ operation: "upsert", request: { key, value, ...extra } }) as TransactionOperation;
  const del = (key: string, extra: Partial<TransactionOperation["request"]> = {}) =>
    ({ operation: "delete", request: { key, ...extra } }) as TransactionOperation;

  if (!ctx.has("TRANSACTIONAL")) {
    group("TRANSACTIONAL (not declared)", () => {
      step("transact rejects with ERR_NOT_SUPPORTED and applies nothing (16)", async () => {
        await expectNotSupported(
          store.transact({ operations: [upsert(k("never"), "x")], metadata: PARTITION }),
          "transact",
        );
        await expectAbsent(store, k("never"), "a rejected transaction writes nothing");
      });
    });
    return;
  }

  group("TRANSACTIONAL", () => {
    const groups: { sets: [string, unknown][]; deletes: string[] }[] = [
      {
        sets: [
          [k("int"), 123],
          [k("bool"), true],
          [k("string"), "hello world"],
          [k("bytes"), new Uint8Array([0x01, 0xff])],
          [k("del"), "deleted in group 2"],
        ],
        deletes: [],
      },
      { sets: [[k("struct"), { message: "test" }]], deletes: [k("del")] },
      { sets: [[k("del2"), "deleted in group 4"]], deletes: [] },
      { sets: [], deletes: [k("del2")] },
    ];
    groups.forEach((g, i) => {
      step(
        `transaction group ${i + 1} with partitionKey: sets readable, deletes gone (12)`,
        async () => {
          await store.transact({
            operations: [
              ...g.sets.map(([key, value]) =>
                upsert(
                  key,
                  value,
                  value instanceof Uint8Array || typeof value !== "object"
                    ? {}
                    : { metadata: JSON_METADATA },
                ),
              ),
              ...g.deletes.map((key) => del(key)),
            ],
            metadata: PARTITION,
          });
          for (const [key, value] of g.sets)
            await expectStored(store, key, value, `group ${i + 1} set`);
          for (const key of g.deletes) await expectAbsent(store, key, `group ${i + 1} delete`);
        },
      );
    });

    step("a transaction deleting a missing key succeeds (13)", async () => {
      await store.transact({ operations: [del(k("never-written"))], metadata: PARTITION });
      await expectAbsent(store, k("never-written"), "still absent");
    });

    step("operations apply in order: [delete k1, set k2, delete k2, set k3] (14)", async () => {
      await store.set({ key: k("order-1"), value: "value1" });
      await store.transact({
        operations: [
          del(k("order-1")),
          upsert(k("order-2"), "value2"),
          del(k("order-2")),
          upsert(k("order-3"), "value3"),
        ],
      });
      await expectAbsent(store, k("order-1"), "k1 deleted first");
      await expectAbsent(store, k("order-2"), "k2 set, then deleted");
      await expectStored(store, k("order-3"), "value3", "k3 set last");
    });

    step("the last of several writes to one key wins", async () => {
      await store.transact({
        operations: [
          upsert(k("repeat"), "first"),
          upsert(k("repeat"), "second"),
          upsert(k("repeat"), "third"),
        ],
      });
      await expectStored(store, k("repeat"), "third", "after three upserts");
    });

    step("JSON bytes read back equal with and without operation contentType (15)", async () => {
      const raw = new TextEncoder().encode('{"id":1223,"name":"test"}');
      await store.transact({
        operations: [
          upsert(k("json-ct"), raw, { metadata: JSON_METADATA }),
          upsert(k("json-plain"), raw),
        ],
        metadata: PARTITION,
      });
      for (const key of [k("json-ct"), k("json-plain")]) {
        const res = await store.get({ key, metadata: JSON_METADATA });
        expect(res.data, `${key} must exist`).toBeInstanceOf(Uint8Array);
        expect(decodeTolerant(res.data as Uint8Array), key).toEqual({ id: 1223, name: "test" });
      }
    });

    step(
      "all or nothing: a failing operation (first-write conflict) leaves every key unchanged",
      async () => {
        await store.set({ key: k("atomic-existing"), value: "original" });
        await expectETagError(
          store.transact({
            operations: [
              upsert(k("atomic-new"), "new"),
              del(k("atomic-other")),
              upsert(k("atomic-existing"), "clobbered", {
                options: { concurrency: "first-write" },
              }),
            ],
          }),
          "mismatch",
          "transaction with a first-write conflict",
        );
        await expectAbsent(store, k("atomic-new"), "the earlier upsert is rolled back");
        await expectStored(store, k("atomic-existing"), "original", "the conflicting key");
      },
    );

    if (ctx.has("ETAG")) {
      step(
        "all or nothing: a stale etag fails the transaction with ETagError mismatch",
        async () => {
          await store.set({ key: k("etag-a"), value: "a1" });
          await store.set({ key: k("etag-b"), value: "b1" });
          const etagB = (await store.get({ key: k("etag-b") })).etag;
          await expectETagError(
            store.transact({
              operations: [
                upsert(k("etag-b"), "b2", { etag: etagB }),
                upsert(k("etag-a"), "a2", { etag: ctx.badEtag }),
              ],
            }),
            "mismatch",
            "transaction with a stale etag",
          );
          await expectStored(store, k("etag-a"), "a1", "key with the bad etag");
          await expectStored(store, k("etag-b"), "b1", "the valid etag write is rolled back");
          expect((await store.get({ key: k("etag-b") })).etag, "etag of the rolled-back key").toBe(
            etagB,
          );
          await store.transact({
            operations: [upsert(k("etag-b"), "b3", { etag: etagB }), del(k("etag-a"))],
          });
          await expectStored(store, k("etag-b"), "b3", "a transaction with the right etag");
          await expectAbsent(store, k("etag-a"), "delete in the same transaction");
        },
      );
    }

    if (store.maxTransactionSize !== undefined) {
      const max = store.maxTransactionSize;
      step(`maxTransactionSize (${max}): a transaction of exactly that size succeeds`, async () => {
        await store.transact({
          operations: Array.from({ length: max }, (_, i) => upsert(k(`max-${i}`), i)),
        });
        await expectStored(
          store,
          k(`max-${max - 1}`),
          max - 1,
          "last item of a maximal transaction",
        );
      });
    }
  });
}

/** Decodes JSON, tolerating a JSON string holding base64 of the JSON (RedisJSON's wrapping). */
function decodeTolerant(data: Uint8Array): unknown {
  const value = decodeJson(data);
  if (typeof value === "string") {
    try {
      return JSON.parse(utf8(Buffer.from(value, "base64")));
    } catch {
      return value;
    }
  }
  return value;
}
