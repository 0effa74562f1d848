import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSidecarConformance, type StartSidecar } from "@outrig/conformance";
import { silentLogger } from "@outrig/core";
import { afterAll } from "vitest";
import { startSidecar } from "../src/index.ts";

// The sidecar suites of the two backends @outrig/runtime itself depends on (the others run theirs
// in their own packages, with @outrig/runtime as a devDependency).
const start: StartSidecar = (options) =>
  startSidecar({ ...options, httpPort: 0, logger: silentLogger });

describeSidecarConformance({
  name: "memory",
  startSidecar: start,
  state: { type: "state.in-memory" },
  pubsub: { type: "pubsub.in-memory" },
  lock: { type: "lock.in-memory" },
});

const dir = mkdtempSync(join(tmpdir(), "outrig-sidecar-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSidecarConformance({
  name: "sqlite",
  startSidecar: start,
  state: { type: "state.sqlite", metadata: { connectionString: join(dir, "state.db") } },
  lock: { type: "lock.sqlite", metadata: { connectionString: join(dir, "locks.db") } },
});
