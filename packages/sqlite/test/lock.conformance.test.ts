import { join } from "node:path";
import { describeLockStoreConformance } from "@outrig/conformance";
import { createSqliteLockStore } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const dir = tempDir("lock-conformance");

// Every create() opens a new connection to the same file: the second clients of the exclusion
// and durability cases are separate connections, as separate processes would be.
describeLockStoreConformance({
  name: "sqlite-file",
  create: () => createSqliteLockStore({ connectionString: join(dir, "locks.db") }),
  options: { expiryGraceMs: 300 },
});

describeLockStoreConformance({
  name: "sqlite-file-shared-with-state-custom-table",
  create: () =>
    createSqliteLockStore({
      connectionString: join(dir, "state.db"),
      tableName: "outrig_locks",
      cleanupInterval: "1s",
    }),
  options: { expiryGraceMs: 300 },
});
