import { describeLockStoreConformance } from "@outrig/conformance";
import { createMemoryLockStore } from "../src/index.ts";

describeLockStoreConformance({
  name: "in-memory",
  create: () => createMemoryLockStore({ cleanupInterval: 0 }),
  // Locks live in the process: a second instance is a second, empty lock table.
  durable: false,
  options: { expiryGraceMs: 200 },
});
