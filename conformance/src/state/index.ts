import { afterAll, describe, expect, it } from "vitest";
import { describeBulk, describeCrud, describeLifecycle } from "./basic.ts";
import { createContext, createStore, type StateConformanceConfig } from "./context.ts";
import { describeEtag, describeFirstWrite } from "./etag.ts";
import { describeDeleteWithPrefix, describeKeysLike } from "./keys.ts";
import { describeQuery } from "./query.ts";
import { describeTransactions } from "./transactions.ts";
import { describeTtl } from "./ttl.ts";

export { describeBulk, describeCrud, describeLifecycle } from "./basic.ts";
export type {
  StateConformanceConfig,
  StateConformanceOptions,
  StateSuiteContext,
} from "./context.ts";
export { createContext } from "./context.ts";
export { describeEtag, describeFirstWrite } from "./etag.ts";
export { describeDeleteWithPrefix, describeKeysLike } from "./keys.ts";
export { describeQuery } from "./query.ts";
export { describeTransactions } from "./transactions.ts";
export { describeTtl } from "./ttl.ts";

/**
 * Dapr's state conformance cases (dapr-conformance.md §1.7) as a vitest suite, one call per
 * component configuration. The store is created while the suite is collected: its declared
 * capabilities pick, per capability, either the positive tests or a "rejects with
 * ERR_NOT_SUPPORTED" test, so nothing is skipped. Capability groups run concurrently on their own
 * keys; every key starts with a per-run UUID, so suites can share one backend.
 */
export function describeStateStoreConformance(config: StateConformanceConfig): void {
  describe(`state store conformance: ${config.name}`, { concurrent: true }, async () => {
    // A failing create() fails the whole suite, as Dapr's init case aborts it.
    const store = await createStore(config);
    const ctx = createContext(config, store);

    // The slow groups (they wait for TTLs) first: vitest runs at most maxConcurrency (5) at once.
    describeTtl(ctx);
    describeKeysLike(ctx);
    describeLifecycle(ctx);
    describeCrud(ctx);
    describeBulk(ctx);
    describeEtag(ctx);
    describeFirstWrite(ctx);
    describeTransactions(ctx);
    describeQuery(ctx);
    describeDeleteWithPrefix(ctx);

    if (config.additionalTests) {
      describe.sequential("additional tests", () => config.additionalTests?.(ctx));
    }

    // Sequential suites run after the concurrent groups above have finished.
    describe.sequential("close", () => {
      it("close resolves and is idempotent", async () => {
        await expect(store.close()).resolves.toBeUndefined();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    afterAll(async () => {
      await store.close();
    });
  });
}
