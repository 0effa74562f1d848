import { describeLockStoreConformance } from "../../src/index.ts";
import { LOCK_MUTANTS, type LockServer, ReferenceLockStore } from "./reference.ts";

for (const [name, { faults }] of Object.entries(LOCK_MUTANTS)) {
  const server: LockServer = new Map();
  describeLockStoreConformance({
    name: `mutant ${name}`,
    create: async () => new ReferenceLockStore(server, faults),
    options: { expiryGraceMs: 300 },
  });
}
