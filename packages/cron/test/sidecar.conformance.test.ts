import { describeSidecarConformance, type StartSidecar } from "@outrig/conformance";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { manifest } from "../src/index.ts";

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// An input-only binding: ticks reach the app's route; invoking it is refused.
describeSidecarConformance({
  name: "cron",
  startSidecar: start,
  binding: { type: "bindings.cron", metadata: { schedule: "@every 1s" }, input: "source" },
});
