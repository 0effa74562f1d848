import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { createRegistry, createRuntime } from "@outrig/runtime";
import { afterAll, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "outrig-mqtt-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Issue 15 §5 with the real client: a broker nobody listens on (port 1 refuses at once), the
// password inside the address.
it("an unreachable broker: the error names file, component, type, field and host:port, never the password", async () => {
  const file = join(dir, "events.yaml");
  writeFileSync(
    file,
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: events
spec:
  type: pubsub.mqtt3
  version: v1
  metadata:
    - name: url
      value: "mqtt://user:hunter2-secret@127.0.0.1:1"
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
    `${file} [document 0] component events (pubsub.mqtt3) spec.metadata.url (line 9)`,
  );
  expect(error?.message).toContain("127.0.0.1:1");
  expect(error?.message).not.toContain("hunter2");
});
