import { describeStateStoreConformance } from "@outrig/conformance";
import { createMemoryStateStore, MemoryStateStore } from "../src/state.ts";

describeStateStoreConformance({
  name: "in-memory",
  create: () => createMemoryStateStore({ cleanupInterval: "1s" }),
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
