import { describeStateStoreConformance } from "@outrig/conformance";
import { expect, it } from "vitest";
import { createMemoryStateStore, MemoryStateStore } from "../src/state.ts";

describeStateStoreConformance({
  name: "in-memory",
  create: () => createMemoryStateStore({ cleanupInterval: "1s" }),
  // Runs after the suite's groups, on the same store: everything they wrote is still there.
  additionalTests: (ctx) => {
    it("query without a filter returns the run's JSON values in ascending key order, never raw bytes", async () => {
      const { results } = await ctx.store.query({ query: {} });
      const keys = results.map((r) => r.key);
      expect(keys.length).toBeGreaterThan(10);
      expect(keys).toEqual([...keys].sort());
      expect(keys).not.toContain(ctx.key("crud-proto"));
      expect(keys).toContain(ctx.key("query-struct"));
    });
  },
});

describeStateStoreConformance({
  name: "in-memory-actor",
  create: () => createMemoryStateStore({ actorStateStore: "true" }),
});

// Every capability withdrawn: exercises each "undeclared → ERR_NOT_SUPPORTED" branch of the suite.
describeStateStoreConformance({
  name: "in-memory-no-capabilities",
  create: async () => new MemoryStateStore({ capabilities: [] }),
});
