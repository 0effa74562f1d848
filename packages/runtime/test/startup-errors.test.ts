import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, silentLogger } from "@outrig/core";
import { afterAll, describe, expect, it } from "vitest";
import { createRegistry, createRuntime, startSidecar } from "../src/index.ts";
import { manifest as tcpProbe } from "./fixtures/tcp-store.ts";
import { freePort } from "./helpers.ts";

// Issue 15 §5: a component that cannot start says which file, component, type and field.
const dir = mkdtempSync(join(tmpdir(), "outrig-startup-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to its own resources folder; returns the folder and the file. */
function resources(name: string, text: string): { path: string; file: string } {
  const path = join(dir, name);
  const file = join(path, "components.yaml");
  mkdirSync(path, { recursive: true });
  writeFileSync(file, text);
  return { path, file };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected start-up to fail");
}

const registry = () => createRegistry({ manifests: [tcpProbe], discover: false });

describe("start-up errors say where", () => {
  it("an unknown type is reported at its own line, naming file and component", async () => {
    const { path, file } = resources(
      "unknown-type",
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orders
spec:
  type: state.nosuch
  version: v1
`,
    );
    const message = await failure(
      createRuntime({ appId: "a", resourcesPaths: [path], registry: registry() }),
    );
    expect(message).toContain(`${file} [document 0] orders (state.nosuch) spec.type (line 6)`);
    expect(message).toContain("no outrig package provides it");
    expect(message).toContain("state.redis");
  });

  it("a type the catalog maps to a package that is not installed names the package", async () => {
    const { path, file } = resources(
      "not-installed",
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.fancy
`,
    );
    const message = await failure(
      createRuntime({
        appId: "a",
        resourcesPaths: [path],
        registry: createRegistry({
          catalog: { "state.fancy": "@outrig/fancy-not-installed" },
          discover: false,
        }),
      }),
    );
    expect(message).toContain(`${file} [document 0] cache (state.fancy) spec.type (line 6)`);
    expect(message).toContain("pnpm add @outrig/fancy-not-installed");
  });

  it("a version that does not exist is reported at spec.version, listing the versions", async () => {
    const { path, file } = resources(
      "bad-version",
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: probe
spec:
  type: state.tcp-probe
  version: v9
`,
    );
    const message = await failure(
      createRuntime({ appId: "a", resourcesPaths: [path], registry: registry() }),
    );
    expect(message).toContain(`${file} [document 0] probe (state.tcp-probe) spec.version (line 7)`);
    expect(message).toContain("available: v1");
  });

  it("a metadata value from an unset environment variable names component, type, field and line", async () => {
    delete process.env.OUTRIG_TEST_UNSET_15;
    const { path, file } = resources(
      "unset-env",
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: probe
spec:
  type: state.tcp-probe
  metadata:
    - name: connectionString
      envRef: OUTRIG_TEST_UNSET_15
`,
    );
    const message = await failure(
      createRuntime({ appId: "a", resourcesPaths: [path], registry: registry() }),
    );
    expect(message).toContain(
      `${file} [document 0] probe (state.tcp-probe) spec.metadata.connectionString (line 8)`,
    );
    expect(message).toContain("OUTRIG_TEST_UNSET_15 is not set");
  });

  const unreachable = async (name: string, extra = "") => {
    const port = await freePort();
    return {
      port,
      ...resources(
        name,
        `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: first
spec:
  type: state.in-memory
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: backend
spec:
  type: state.tcp-probe${extra}
  metadata:
    - name: timeout
      value: 2s
    - name: connectionString
      value: tcp://orders:hunter2@127.0.0.1:${port}
`,
      ),
    };
  };

  it("an unavailable server: file, component, type, field and host:port, never the password", async () => {
    const { port, path, file } = await unreachable("unavailable");
    const message = await failure(
      createRuntime({ appId: "a", resourcesPaths: [path], registry: registry() }),
    );
    expect(message).toContain(
      `${file} [document 1] component backend (state.tcp-probe) spec.metadata.connectionString (line 17)`,
    );
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain("failed to start");
    expect(message).not.toContain("hunter2");
  });

  it("a component that times out still names the address it was reaching, never the password", async () => {
    const port = await freePort();
    const { path, file } = resources(
      "hanging",
      `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: slow
spec:
  type: state.tcp-probe
  initTimeout: 300ms
  metadata:
    - name: hang
      value: "true"
    - name: connectionString
      value: tcp://orders:hunter2@127.0.0.1:${port}
`,
    );
    const message = await failure(
      createRuntime({ appId: "a", resourcesPaths: [path], registry: registry() }),
    );
    expect(message).toContain(
      `${file} [document 0] component slow (state.tcp-probe) spec.metadata.connectionString (line 11)`,
    );
    expect(message).toContain("did not initialise within 300ms");
    expect(message).toContain(`(reaching 127.0.0.1:${port})`);
    expect(message).not.toContain("hunter2");
  });

  it("spec.ignoreErrors: true starts the sidecar without that component, and warns where", async () => {
    const { path, file } = await unreachable("ignored", "\n  ignoreErrors: true");
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`),
    };
    const sidecar = await startSidecar({
      appId: "a",
      httpPort: 0,
      resourcesPaths: [path],
      registry: registry(),
      logger,
    });
    try {
      const metadata = (await (await fetch(`${sidecar.url}/v1.0/metadata`)).json()) as {
        components: { name: string }[];
      };
      expect(metadata.components.map((c) => c.name)).toEqual(["first"]);
      expect(warnings.join("\n")).toContain(file);
      expect(warnings.join("\n")).toContain("spec.metadata.connectionString");
      expect(warnings.join("\n")).not.toContain("hunter2");
    } finally {
      await sidecar.stop();
    }
  });
});
