import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { createRegistry, createRuntime } from "@outrig/runtime";
import { afterAll, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "outrig-kafka-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Issue 15 §5 with the real client: a broker nobody listens on, SASL credentials beside it.
// kafkajs keeps retrying, so the runtime's initTimeout ends the start and names the address.
it("an unreachable broker: the error names file, component, type, field and host:port, never the password", async () => {
  const file = join(dir, "events.yaml");
  writeFileSync(
    file,
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: events
spec:
  type: pubsub.kafka
  version: v1
  initTimeout: 1s
  metadata:
    - name: brokers
      value: "127.0.0.1:1"
    - name: authType
      value: password
    - name: saslUsername
      value: app
    - name: saslPassword
      value: hunter2-secret
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
    `${file} [document 0] component events (pubsub.kafka) spec.metadata.brokers (line 10)`,
  );
  expect(error?.message).toContain("127.0.0.1:1");
  expect(error?.message).not.toContain("hunter2");
});
