import { describeSidecarConformance, type StartSidecar } from "@outrig/conformance";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { manifest } from "../src/index.ts";
import { startTestServer } from "./server.ts";

const server = await startTestServer();
afterAll(() => server.close());

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

describeSidecarConformance({
  name: "http",
  startSidecar: start,
  binding: {
    type: "bindings.http",
    metadata: { url: `${server.url}/api/` },
    output: (id) => ({ operation: "post", data: { id }, metadata: { path: `sc-${id}` } }),
    readBack: (id) => ({ operation: "get", metadata: { path: `sc-${id}` } }),
  },
});
