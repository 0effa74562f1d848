import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { createRegistry, createRuntime } from "@outrig/runtime";
import { afterAll, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "outrig-postgres-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Issue 15 §5 with the real driver: a server nobody listens on (port 1 refuses at once), the
// password inside the connection string, as Dapr YAML often writes it.
it("an unreachable PostgreSQL: the error names file, component, type, field and host:port, never the password", async () => {
  const file = join(dir, "orders.yaml");
  writeFileSync(
    file,
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orders
spec:
  type: state.postgresql
  version: v1
  metadata:
    - name: connectionString
      value: "postgres://app:hunter2-secret@127.0.0.1:1/orders"
`,
  );
  const error = await createRuntime({
    appId: "a",
    logger: silentLogger,
    resourcesPaths: [dir],
    registry: createRegistry({ manifests: [manifest], discover: false }),
  }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error?.message).toContain(
    `${file} [document 0] component orders (state.postgresql) spec.metadata.connectionString (line 9)`,
  );
  expect(error?.message).toContain("127.0.0.1:1");
  expect(error?.message).not.toContain("hunter2");
});
