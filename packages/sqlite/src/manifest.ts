import { defineManifest, type StateStoreDefinition } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { lockDefinition } from "./lock.ts";
import { COMPONENT_TYPE, sqliteOptions } from "./options.ts";
import { openSqliteStateStore } from "./state.ts";

export const stateDefinition: StateStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "state",
  version: "v1",
  status: "beta",
  description: "Embedded, durable state on one SQLite file (WAL), safe for several processes",
  // ACTOR only with actorStateStore=true.
  capabilities: [
    "ETAG",
    "TRANSACTIONAL",
    "QUERY_API",
    "TTL",
    "DELETE_WITH_PREFIX",
    "KEYS_LIKE",
    "ACTOR",
  ],
  options: sqliteOptions,
  create: openSqliteStateStore,
};

export const manifest = defineManifest({
  packageName: "@outrig/sqlite",
  version: pkg.version,
  // daprd registers state.sqlite also as state.sqlite3 (cmd/daprd/components/state_sqlite.go).
  components: [{ ...stateDefinition, aliases: ["state.sqlite3"] }, lockDefinition],
});
