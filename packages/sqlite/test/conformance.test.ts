import { join } from "node:path";
import { describeStateStoreConformance } from "@outrig/conformance";
import { createSqliteStateStore } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const dir = tempDir("conformance");

describeStateStoreConformance({
  name: "sqlite-file",
  create: () => createSqliteStateStore({ connectionString: join(dir, "state.db") }),
});

describeStateStoreConformance({
  name: "sqlite-memory-custom-tables-actor",
  create: () =>
    createSqliteStateStore({
      connectionString: ":memory:",
      tableName: "outrig_state",
      metadataTableName: "outrig_meta",
      cleanupInterval: "1s",
      actorStateStore: "true",
    }),
});
