import type { LockStore } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  describeLockBadInput,
  describeLockBasics,
  describeLockDurability,
  describeLockExclusion,
  describeLockExpiry,
  describeLockLifecycle,
  describeLockOwnership,
} from "./cases.ts";
import {
  createLockContext,
  createLockStore,
  expectCode,
  type LockConformanceConfig,
  step,
} from "./context.ts";

export {
  describeLockBadInput,
  describeLockBasics,
  describeLockDurability,
  describeLockExclusion,
  describeLockExpiry,
  describeLockLifecycle,
  describeLockOwnership,
} from "./cases.ts";
export type {
  LockCaseId,
  LockConformanceConfig,
  LockConformanceOptions,
  LockSuiteContext,
} from "./context.ts";
export { createLockContext, LOCK_CASES } from "./context.ts";

/**
 * The distributed lock contract as a vitest suite, one call per component configuration. Groups
 * run concurrently on their own resource ids (each starts with a per-run UUID, so suites can share
 * a backend); the waits for expiry overlap.
 */
export function describeLockStoreConformance(config: LockConformanceConfig): void {
  describe(`lock store conformance: ${config.name}`, { concurrent: true }, async () => {
    const store = await createLockStore(config);
    const opened: LockStore[] = [];
    const ctx = createLockContext(config, store, opened);

    // The slow groups (they wait for expiry) first: vitest runs at most maxConcurrency at once.
    describeLockExpiry(ctx);
    describeLockDurability(ctx);
    describeLockLifecycle(ctx);
    describeLockBasics(ctx);
    describeLockOwnership(ctx);
    describeLockExclusion(ctx);
    describeLockBadInput(ctx);

    if (config.additionalTests) {
      describe.sequential("additional tests", () => config.additionalTests?.(ctx));
    }

    describe.sequential("close", () => {
      step("close", "close resolves and is idempotent", async () => {
        await expect(store.close()).resolves.toBeUndefined();
        await expect(store.close()).resolves.toBeUndefined();
      });
      it("close: after close, tryLock and unlock reject with ERR_CLOSED", async () => {
        await expectCode(
          store.tryLock({ resourceId: ctx.resource("closed"), lockOwner: "a", expiryInSeconds: 5 }),
          "ERR_CLOSED",
          "tryLock after close",
        );
        await expectCode(
          store.unlock({ resourceId: ctx.resource("closed"), lockOwner: "a" }),
          "ERR_CLOSED",
          "unlock after close",
        );
      });
    });

    afterAll(async () => {
      await Promise.allSettled([store.close(), ...opened.map((s) => s.close())]);
    });
  });
}
