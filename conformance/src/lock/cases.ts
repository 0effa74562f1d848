import {
  type LockStore,
  type TryLockRequest,
  UNLOCK_STATUS,
  type UnlockRequest,
} from "@outrig/core";
import { expect } from "vitest";
import { expectCode, group, type LockSuiteContext, sleep, step } from "./context.ts";

const { SUCCESS, LOCK_DOES_NOT_EXIST, LOCK_BELONGS_TO_OTHERS } = UNLOCK_STATUS;

async function expectLocked(
  store: LockStore,
  request: TryLockRequest,
  expected: boolean,
  what: string,
): Promise<void> {
  const res = await store.tryLock(request);
  expect(res.success, `${what}: tryLock(${request.lockOwner}) success`).toBe(expected);
}

async function expectUnlock(
  store: LockStore,
  request: UnlockRequest,
  expected: number,
  what: string,
): Promise<void> {
  const res = await store.unlock(request);
  expect(res.status, `${what}: unlock(${request.lockOwner}) status`).toBe(expected);
}

export function describeLockLifecycle(ctx: LockSuiteContext): void {
  group("lifecycle", () => {
    step("lifecycle", "ping resolves", async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
    });
  });
}

/** Take, refuse, release, and the three unlock outcomes. */
export function describeLockBasics(ctx: LockSuiteContext): void {
  const { store } = ctx;
  const r = ctx.resource("basics");
  group("basics", () => {
    step("basics", "tryLock on a free resource succeeds", async () => {
      await expectLocked(
        store,
        { resourceId: r, lockOwner: "a", expiryInSeconds: 60 },
        true,
        "free",
      );
    });
    step("basics", "a held lock refuses every other owner", async () => {
      await expectLocked(
        store,
        { resourceId: r, lockOwner: "b", expiryInSeconds: 60 },
        false,
        "held",
      );
    });
    step(
      "basics",
      "locks are not re-entrant: the owner itself is refused while it holds it",
      async () => {
        await expectLocked(
          store,
          { resourceId: r, lockOwner: "a", expiryInSeconds: 60 },
          false,
          "again",
        );
      },
    );
    step("basics", "other resources are independent of a held one", async () => {
      await expectLocked(
        store,
        { resourceId: `${r}-other`, lockOwner: "b", expiryInSeconds: 60 },
        true,
        "other",
      );
      await expectUnlock(store, { resourceId: `${r}-other`, lockOwner: "b" }, SUCCESS, "other");
    });
    step("basics", "unlock by the owner is SUCCESS and frees the resource for anyone", async () => {
      await expectUnlock(store, { resourceId: r, lockOwner: "a" }, SUCCESS, "owner");
      await expectLocked(
        store,
        { resourceId: r, lockOwner: "b", expiryInSeconds: 60 },
        true,
        "after unlock",
      );
      await expectUnlock(store, { resourceId: r, lockOwner: "b" }, SUCCESS, "b releases");
    });
    step("basics", "unlocking a released lock is LOCK_DOES_NOT_EXIST", async () => {
      await expectUnlock(store, { resourceId: r, lockOwner: "b" }, LOCK_DOES_NOT_EXIST, "twice");
    });
    step("basics", "unlocking a never-locked resource is LOCK_DOES_NOT_EXIST", async () => {
      await expectUnlock(
        store,
        { resourceId: ctx.resource("never"), lockOwner: "a" },
        LOCK_DOES_NOT_EXIST,
        "never",
      );
    });
  });
}

/** Only the owner unlocks; a refused unlock leaves the lock held. */
export function describeLockOwnership(ctx: LockSuiteContext): void {
  const { store } = ctx;
  const r = ctx.resource("ownership");
  group("ownership", () => {
    step(
      "ownership",
      "another owner's unlock is LOCK_BELONGS_TO_OTHERS and the lock stays held",
      async () => {
        await expectLocked(
          store,
          { resourceId: r, lockOwner: "owner", expiryInSeconds: 60 },
          true,
          "take",
        );
        await expectUnlock(
          store,
          { resourceId: r, lockOwner: "intruder" },
          LOCK_BELONGS_TO_OTHERS,
          "intruder",
        );
        await expectLocked(
          store,
          { resourceId: r, lockOwner: "intruder", expiryInSeconds: 60 },
          false,
          "still held",
        );
        await expectUnlock(store, { resourceId: r, lockOwner: "owner" }, SUCCESS, "owner");
      },
    );
    step("ownership", "owners are compared exactly (case and whitespace count)", async () => {
      await expectLocked(
        store,
        { resourceId: r, lockOwner: "Owner", expiryInSeconds: 60 },
        true,
        "take",
      );
      await expectUnlock(
        store,
        { resourceId: r, lockOwner: "owner" },
        LOCK_BELONGS_TO_OTHERS,
        "lower case",
      );
      await expectUnlock(
        store,
        { resourceId: r, lockOwner: "Owner " },
        LOCK_BELONGS_TO_OTHERS,
        "trailing space",
      );
      await expectUnlock(store, { resourceId: r, lockOwner: "Owner" }, SUCCESS, "exact");
    });
  });
}

/** Exactly one of many concurrent contenders wins, on one client and across two. */
export function describeLockExclusion(ctx: LockSuiteContext): void {
  const { store } = ctx;
  const n = ctx.options.contenders;
  const race = async (clients: LockStore[], resourceId: string, round: string) => {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        (clients[i % clients.length] as LockStore).tryLock({
          resourceId,
          lockOwner: `${round}-${i}`,
          expiryInSeconds: 60,
        }),
      ),
    );
    const winners = results.flatMap((res, i) => (res.success ? [`${round}-${i}`] : []));
    expect(winners, `${n} contenders for ${resourceId}: exactly one must win`).toHaveLength(1);
    return winners[0] as string;
  };
  group("exclusion", () => {
    const r = ctx.resource("exclusion");
    step(
      "exclusion",
      `${n} concurrent contenders: exactly one wins, and it holds the lock`,
      async () => {
        const winner = await race([store], r, "first");
        await expectUnlock(
          store,
          { resourceId: r, lockOwner: "someone-else" },
          LOCK_BELONGS_TO_OTHERS,
          "loser",
        );
        await expectUnlock(store, { resourceId: r, lockOwner: winner }, SUCCESS, "winner");
      },
    );
    step(
      "exclusion",
      `after the winner unlocks, ${n} new contenders: again exactly one wins`,
      async () => {
        const winner = await race([store], r, "second");
        await expectUnlock(store, { resourceId: r, lockOwner: winner }, SUCCESS, "winner");
      },
    );
    if (ctx.durable) {
      step("exclusion", `${n} contenders spread over two clients: exactly one wins`, async () => {
        const other = await ctx.open();
        const shared = ctx.resource("exclusion-two-clients");
        const winner = await race([store, other], shared, "two");
        await expectUnlock(
          other,
          { resourceId: shared, lockOwner: winner },
          SUCCESS,
          "winner via the other client",
        );
      });
    }
  });
}

/**
 * A lock holds until its expiry and not after. Every timed assertion is bounded by the clock
 * around the calls (a lock's expiry starts after its tryLock was sent and before its answer came
 * back), so a slow machine makes a round retry with a longer expiry, never a false failure.
 */
export function describeLockExpiry(ctx: LockSuiteContext): void {
  const { store } = ctx;
  const grace = ctx.options.expiryGraceMs;
  group("expiry", () => {
    let held = "";
    let heldSeconds = 0;
    /** When the held lock's tryLock answered: its expiry started no later than this. */
    let heldAnsweredAt = 0;
    const short = ctx.resource("expiry-short");
    let shortAnsweredAt = 0;
    step(
      "expiry",
      "a lock holds until its expiry: still refused before it",
      async () => {
        await expectLocked(
          store,
          { resourceId: short, lockOwner: "first", expiryInSeconds: 1 },
          true,
          "take (1 s)",
        );
        shortAnsweredAt = Date.now();
        for (const seconds of [2, 4, 8]) {
          const r = ctx.resource(`expiry-${seconds}`);
          const sent = Date.now();
          await expectLocked(
            store,
            { resourceId: r, lockOwner: "first", expiryInSeconds: seconds },
            true,
            `take (${seconds} s)`,
          );
          const answered = Date.now();
          await sleep(600);
          const second = await store.tryLock({
            resourceId: r,
            lockOwner: "second",
            expiryInSeconds: 60,
          });
          if (Date.now() - sent < seconds * 1000) {
            expect(second.success, `0.6 s into ${seconds} s: another owner must be refused`).toBe(
              false,
            );
            held = r;
            heldSeconds = seconds;
            heldAnsweredAt = answered;
            return;
          }
          // Too slow to tell: the lock may have expired by the server's clock. Clean up, retry longer.
          await store.unlock({ resourceId: r, lockOwner: second.success ? "second" : "first" });
        }
        expect.fail(
          "the store answered too slowly to check a lock before its expiry, even with 8 s",
        );
      },
      30_000,
    );
    step(
      "expiry",
      "an expired lock is free: another owner takes it",
      async () => {
        await sleep(Math.max(0, heldAnsweredAt + heldSeconds * 1000 + grace - Date.now()));
        await expectLocked(
          store,
          { resourceId: held, lockOwner: "second", expiryInSeconds: 60 },
          true,
          "after expiry",
        );
      },
      20_000 + grace,
    );
    step(
      "expiry",
      "the first owner's unlock after expiry cannot free the new owner's lock",
      async () => {
        await expectUnlock(
          store,
          { resourceId: held, lockOwner: "first" },
          LOCK_BELONGS_TO_OTHERS,
          "stale owner",
        );
        await expectUnlock(store, { resourceId: held, lockOwner: "second" }, SUCCESS, "new owner");
      },
    );
    step("expiry", "unlocking an expired lock nobody retook is LOCK_DOES_NOT_EXIST", async () => {
      await sleep(Math.max(0, shortAnsweredAt + 1000 + grace - Date.now()));
      await expectUnlock(
        store,
        { resourceId: short, lockOwner: "first" },
        LOCK_DOES_NOT_EXIST,
        "expired",
      );
    });
  });
}

/** A lock is the backend's, not the client's: it outlives the client that took it, not its expiry. */
export function describeLockDurability(ctx: LockSuiteContext): void {
  group("durability", () => {
    if (!ctx.durable) {
      step(
        "durability",
        "an in-process store's locks end with it: a new instance starts free",
        async () => {
          const first = await ctx.open();
          const r = ctx.resource("process");
          await expectLocked(
            first,
            { resourceId: r, lockOwner: "a", expiryInSeconds: 60 },
            true,
            "take",
          );
          await first.close();
          const second = await ctx.open();
          await expectLocked(
            second,
            { resourceId: r, lockOwner: "b", expiryInSeconds: 60 },
            true,
            "new instance",
          );
        },
      );
      return;
    }
    const held = ctx.resource("durable");
    const expiring = ctx.resource("durable-expiring");
    let reopened: LockStore | undefined;
    let expiringAnsweredAt = 0;
    step(
      "durability",
      "a lock survives its client: closed and reopened, it is still held",
      async () => {
        const first = await ctx.open();
        await expectLocked(
          first,
          { resourceId: held, lockOwner: "a", expiryInSeconds: 60 },
          true,
          "take (60 s)",
        );
        await expectLocked(
          first,
          { resourceId: expiring, lockOwner: "a", expiryInSeconds: 1 },
          true,
          "take (1 s)",
        );
        expiringAnsweredAt = Date.now();
        await first.close();
        reopened = await ctx.open();
        await expectLocked(
          reopened,
          { resourceId: held, lockOwner: "b", expiryInSeconds: 60 },
          false,
          "reopened",
        );
        await expectUnlock(
          reopened,
          { resourceId: held, lockOwner: "b" },
          LOCK_BELONGS_TO_OTHERS,
          "reopened, other owner",
        );
      },
    );
    step(
      "durability",
      "the owner, not the client, holds it: the owner unlocks through the new client",
      async () => {
        await expectUnlock(
          reopened as LockStore,
          { resourceId: held, lockOwner: "a" },
          SUCCESS,
          "owner via new client",
        );
      },
    );
    step(
      "durability",
      "a lock does not survive its expiry, even after a reconnect",
      async () => {
        await sleep(
          Math.max(0, expiringAnsweredAt + 1000 + ctx.options.expiryGraceMs - Date.now()),
        );
        await expectLocked(
          reopened as LockStore,
          { resourceId: expiring, lockOwner: "b", expiryInSeconds: 60 },
          true,
          "after expiry",
        );
        await expectUnlock(
          reopened as LockStore,
          { resourceId: expiring, lockOwner: "b" },
          SUCCESS,
          "release",
        );
      },
      10_000 + ctx.options.expiryGraceMs,
    );
  });
}

/** Invalid requests reject with ERR_INVALID_REQUEST and take nothing. */
export function describeLockBadInput(ctx: LockSuiteContext): void {
  const { store } = ctx;
  const r = ctx.resource("bad");
  const bad = (request: Record<string, unknown>) => request as unknown as TryLockRequest;
  group("badInput", () => {
    step(
      "badInput",
      "tryLock with an empty or missing resourceId or lockOwner is ERR_INVALID_REQUEST",
      async () => {
        await expectCode(
          store.tryLock(bad({ resourceId: "", lockOwner: "a", expiryInSeconds: 10 })),
          "ERR_INVALID_REQUEST",
          "empty resourceId",
        );
        await expectCode(
          store.tryLock(bad({ lockOwner: "a", expiryInSeconds: 10 })),
          "ERR_INVALID_REQUEST",
          "missing resourceId",
        );
        await expectCode(
          store.tryLock(bad({ resourceId: r, lockOwner: "", expiryInSeconds: 10 })),
          "ERR_INVALID_REQUEST",
          "empty lockOwner",
        );
        await expectCode(
          store.tryLock(bad({ resourceId: r, expiryInSeconds: 10 })),
          "ERR_INVALID_REQUEST",
          "missing lockOwner",
        );
      },
    );
    step(
      "badInput",
      "tryLock with expiryInSeconds 0, negative, fractional, NaN or missing is ERR_INVALID_REQUEST",
      async () => {
        for (const expiryInSeconds of [0, -1, 1.5, Number.NaN, undefined, "10"]) {
          await expectCode(
            store.tryLock(bad({ resourceId: r, lockOwner: "a", expiryInSeconds })),
            "ERR_INVALID_REQUEST",
            `expiryInSeconds ${String(expiryInSeconds)}`,
          );
        }
      },
    );
    step(
      "badInput",
      "unlock with an empty resourceId or lockOwner is ERR_INVALID_REQUEST",
      async () => {
        await expectCode(
          store.unlock({ resourceId: "", lockOwner: "a" }),
          "ERR_INVALID_REQUEST",
          "empty resourceId",
        );
        await expectCode(
          store.unlock({ resourceId: r, lockOwner: "" }),
          "ERR_INVALID_REQUEST",
          "empty lockOwner",
        );
      },
    );
    step("badInput", "a refused request took nothing: the resource is still free", async () => {
      await expectLocked(
        store,
        { resourceId: r, lockOwner: "b", expiryInSeconds: 60 },
        true,
        "after refusals",
      );
      await expectUnlock(store, { resourceId: r, lockOwner: "b" }, SUCCESS, "release");
    });
  });
}
