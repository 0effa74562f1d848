import { describeConfigurationStoreConformance } from "@outrig/conformance";
import { MemoryConfigurationStore } from "../src/index.ts";

// The suite writes through the store's own `set`/`delete`, as an app in library mode does.
let store: MemoryConfigurationStore | undefined;

describeConfigurationStoreConformance({
  name: "in-memory",
  create: async () => {
    store = new MemoryConfigurationStore();
    return store;
  },
  write: async (key, value, version) => {
    await store?.set(key, value, { version });
  },
  remove: async (key) => {
    await store?.delete(key);
  },
  burst: "every",
  quietPeriodMs: 200,
});
