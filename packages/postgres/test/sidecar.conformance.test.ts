import { describeSidecarConformance, type StartSidecar } from "@outrig/conformance";
import { startPostgres } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { manifest } from "../src/index.ts";

// The package's shared PostgreSQL (global setup); the suite starts its sidecar while collected.
const postgres = await startPostgres();
afterAll(() => postgres.stop());

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

describeSidecarConformance({
  name: "postgresql",
  startSidecar: start,
  state: {
    type: "state.postgresql",
    metadata: { connectionString: postgres.connectionString },
    etagsParsed: true,
  },
  binding: {
    type: "bindings.postgresql",
    metadata: { connectionString: postgres.connectionString },
    output: (id) => ({ operation: "query", metadata: { sql: `SELECT '${id}' AS id` } }),
  },
});

// Dapr's v2 layout (`version: v2`) through the same sidecar path. Its table is `<tablePrefix>state`,
// the same name as v1's default, so it gets a prefix of its own in the shared database.
describeSidecarConformance({
  name: "postgresql-v2",
  startSidecar: start,
  state: {
    type: "state.postgresql",
    version: "v2",
    metadata: { connectionString: postgres.connectionString, tablePrefix: "outrig_sidecar_v2_" },
    // v2's ETags are UUIDs; a malformed one is answered as stale (409) today.
    etagsParsed: false,
  },
});
