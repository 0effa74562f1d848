import { getMetadata, type Metadata } from "@outrig/core";
import { expect } from "vitest";
import {
  eventually,
  expectAbsent,
  expectCode,
  expectNotSupported,
  expectStored,
  expectValue,
  group,
  type StateSuiteContext,
  sleep,
  step,
} from "./context.ts";

const TEN_MINUTES = 10 * 60_000;

function expireTime(metadata: Metadata | undefined): string | undefined {
  return getMetadata(metadata, "ttlExpireTime");
}

/** Cases 21–24 (TTL declared) and 23 (undeclared); 24 runs under TTL, fixing Dapr's quirk. */
export function describeTtl(ctx: StateSuiteContext): void {
  const { store } = ctx;
  const k = (suffix: string) => ctx.key(`ttl-${suffix}`);

  if (!ctx.has("TTL")) {
    group("TTL (not declared)", () => {
      step("a set with ttlInSeconds rejects with ERR_NOT_SUPPORTED (23)", async () => {
        await expectNotSupported(
          store.set({ key: k("unsupported"), value: "v", metadata: { ttlInSeconds: "60" } }),
          "set with ttlInSeconds",
        );
        await expectAbsent(store, k("unsupported"), "a rejected TTL write stores nothing");
      });
      step("a set without ttl returns no ttlExpireTime (23)", async () => {
        await store.set({ key: k("none"), value: "v" });
        const res = await store.get({ key: k("none") });
        expectValue(res.data, "v", "value without ttl");
        expect(expireTime(res.metadata), "no ttlExpireTime without a TTL").toBeUndefined();
      });
    });
    return;
  }

  const graceMs = ctx.options.ttlGraceMs;

  group("TTL", () => {
    step('ttlInSeconds="foo" makes set fail with ERR_INVALID_REQUEST (21)', async () => {
      await expectCode(
        store.set({ key: k("bad"), value: "v", metadata: { ttlInSeconds: "foo" } }),
        "ERR_INVALID_REQUEST",
        "set with ttlInSeconds=foo",
      );
      await expectCode(
        store.set({ key: k("bad"), value: "v", metadata: { ttlInSeconds: "1.5" } }),
        "ERR_INVALID_REQUEST",
        "set with ttlInSeconds=1.5",
      );
      await expectAbsent(store, k("bad"), "a rejected set stores nothing");
    });

    step(
      "ttl=2: readable at once, gone within ttl + grace; reads filter expired items (22)",
      async () => {
        const started = Date.now();
        await store.set({
          key: k("expiry"),
          value: "short-lived",
          metadata: { ttlInSeconds: "2" },
        });
        await expectStored(store, k("expiry"), "short-lived", "immediately after set");
        const gone = await eventually(
          async () => ((await store.get({ key: k("expiry") })).data ?? null) === null,
          2000 + graceMs - (Date.now() - started),
        );
        expect(gone, `the item must be unreadable within ${2000 + graceMs} ms of a ttl=2 set`).toBe(
          true,
        );
        const items = await store.bulkGet([{ key: k("expiry") }]);
        expect(items[0]?.data ?? null, "bulkGet hides the expired item too").toBeNull();
      },
      20_000,
    );

    step("a set without ttl returns no ttlExpireTime (23)", async () => {
      await store.set({ key: k("none"), value: "v" });
      const res = await store.get({ key: k("none") });
      expectValue(res.data, "v", "value without ttl");
      expect(expireTime(res.metadata), "no ttlExpireTime without a TTL").toBeUndefined();
    });

    if (ctx.options.ttlExpireTime) {
      step(
        "ttl=3600 reports ttlExpireTime (RFC 3339 UTC) within ±10 min of now+1h (24a)",
        async () => {
          await store.set({ key: k("hour"), value: "v", metadata: { ttlInSeconds: "3600" } });
          const res = await store.get({ key: k("hour") });
          const text = expireTime(res.metadata);
          expect(text, "ttlExpireTime must be present").toBeTruthy();
          expect(text, "RFC 3339 in UTC").toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
          const delta = Date.parse(text as string) - (Date.now() + 3_600_000);
          expect(Math.abs(delta), "distance from now+1h (ms)").toBeLessThan(TEN_MINUTES);
        },
      );

      step(
        "ttl=-1 and a later set without ttl both clear ttlExpireTime, and the value survives (24b)",
        async () => {
          const key = k("clear");
          const expiry = async () => expireTime((await store.get({ key })).metadata);
          await store.set({ key, value: "v1", metadata: { ttlInSeconds: "2" } });
          expect(await expiry(), "ttl=2 → ttlExpireTime present").toBeTruthy();
          await store.set({ key, value: "v2", metadata: { ttlInSeconds: "-1" } });
          expect(await expiry(), "ttl=-1 → ttlExpireTime gone").toBeUndefined();
          await sleep(3000);
          await expectStored(store, key, "v2", "3 s after ttl=-1 removed the TTL");
          await store.set({ key, value: "v3", metadata: { ttlInSeconds: "2" } });
          expect(await expiry(), "ttl=2 again → present").toBeTruthy();
          await store.set({ key, value: "v4" });
          expect(await expiry(), "a set without ttl → gone").toBeUndefined();
          await sleep(3000);
          await expectStored(store, key, "v4", "3 s after a set without ttl cleared the TTL");
        },
        20_000,
      );

      step("bulkGet returns ttlExpireTime for each item with a TTL (24c)", async () => {
        await store.set({ key: k("bulk-1"), value: "123", metadata: { ttlInSeconds: "3600" } });
        await store.set({ key: k("bulk-2"), value: "234", metadata: { ttlInSeconds: "3600" } });
        const items = await store.bulkGet([{ key: k("bulk-1") }, { key: k("bulk-2") }]);
        expect(items).toHaveLength(2);
        for (const [key, value] of [
          [k("bulk-1"), "123"],
          [k("bulk-2"), "234"],
        ] as const) {
          const item = items.find((i) => i.key === key);
          expectValue(item?.data, value, `bulkGet ${key}`);
          expect(expireTime(item?.metadata), `bulkGet ${key} ttlExpireTime`).toBeTruthy();
        }
      });
    } else {
      step(
        "ttl=3600 and ttl=-1 items read back (this store reports no ttlExpireTime)",
        async () => {
          await store.set({ key: k("hour"), value: "v", metadata: { ttlInSeconds: "3600" } });
          await expectStored(store, k("hour"), "v", "item with ttl=3600");
          await store.set({ key: k("hour"), value: "w", metadata: { ttlInSeconds: "-1" } });
          await expectStored(store, k("hour"), "w", "item after ttl=-1");
        },
      );
    }

    step(
      "first-write succeeds over an expired item (§1.3: an expired key does not exist)",
      async () => {
        const key = k("first-write");
        const started = Date.now();
        await store.set({ key, value: "old", metadata: { ttlInSeconds: "1" } });
        const gone = await eventually(
          async () => ((await store.get({ key })).data ?? null) === null,
          1000 + graceMs - (Date.now() - started),
        );
        expect(gone, "the ttl=1 item must expire").toBe(true);
        await store.set({ key, value: "new", options: { concurrency: "first-write" } });
        await expectStored(store, key, "new", "first-write over the expired item");
      },
      20_000,
    );

    if (ctx.has("TRANSACTIONAL")) {
      step(
        "a transaction upsert honours ttlInSeconds",
        async () => {
          const key = k("trx");
          const started = Date.now();
          await store.transact({
            operations: [
              {
                operation: "upsert",
                request: { key, value: "t", metadata: { ttlInSeconds: "1" } },
              },
            ],
          });
          await expectStored(store, key, "t", "right after the transaction");
          const gone = await eventually(
            async () => ((await store.get({ key })).data ?? null) === null,
            1000 + graceMs - (Date.now() - started),
          );
          expect(gone, "the transaction's ttl=1 item must expire").toBe(true);
        },
        20_000,
      );
    }
  });
}
