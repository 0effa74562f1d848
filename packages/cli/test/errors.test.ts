import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempHome } from "./helpers.ts";

describe("errors name the bad flag or file and exit with 1", () => {
  let home: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ home, cleanup } = await tempHome());
  });
  afterAll(() => cleanup());

  it("an unknown flag", async () => {
    const result = await runCli(["run", "--app-idd", "x"], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown option '--app-idd'");
  });

  it("a port that is not a port", async () => {
    const result = await runCli(["run", "--app-port", "70000"], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--app-port");
    expect(result.stderr).toContain("70000");
  });

  it.each(["https", "grpcs", "h2c"])("an unsupported app protocol: %s", async (protocol) => {
    const result = await runCli(["run", "--app-protocol", protocol], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--app-protocol");
    expect(result.stderr).toContain(`'${protocol}'`);
  });

  it("an app id with a dot", async () => {
    const result = await runCli(["run", "--app-id", "a.b"], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--app-id: invalid app id "a.b"');
  });

  it("a missing resources directory", async () => {
    const missing = join(home, "nope");
    const result = await runCli(["run", "--resources-path", missing], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--resources-path: resources directory not found: ${missing}`);
  });

  it("a missing config file", async () => {
    const missing = join(home, "missing-config.yaml");
    const result = await runCli(["run", "--config", missing], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--config: config file not found: ${missing}`);
  });

  it("a missing run file", async () => {
    const result = await runCli(["run", "-f", join(home, "absent.yaml")], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--run-file: file not found: ${join(home, "absent.yaml")}`);
  });

  it("a run file that is not YAML", async () => {
    const file = join(home, "broken.yaml");
    await writeFile(file, "version: 1\napps: [\n");
    const result = await runCli(["run", "-f", file], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: invalid YAML`);
  });

  it("a run file with wrong fields lists every problem with its path", async () => {
    const file = join(home, "bad-fields.yaml");
    await writeFile(file, "version: 2\napps:\n  - appID: orders\n    appPort: nope\n");
    const result = await runCli(["run", "-f", file], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: invalid run file`);
    expect(result.stderr).toContain("version: must be 1");
    expect(result.stderr).toContain("apps[0].appDirPath: is required");
    expect(result.stderr).toContain("apps[0].appPort");
  });

  it("a run file whose appDirPath does not exist", async () => {
    const dir = join(home, "project");
    await mkdir(dir, { recursive: true });
    const file = join(dir, "outrig.yaml");
    await writeFile(
      file,
      "version: 1\napps:\n  - appDirPath: ./missing\n    command: [node, app.js]\n",
    );
    const result = await runCli(["run", "-f", dir], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}: apps[0].appDirPath: directory not found: ${join(dir, "missing")}`,
    );
  });

  // Issue 15 §5: the sidecar's start-up errors reach `outrig run` with where they are, exit 1.
  it("a component of an unknown type: file, component, field and its line", async () => {
    const dir = join(home, "components-unknown");
    await mkdir(dir, { recursive: true });
    const file = join(dir, "statestore.yaml");
    await writeFile(
      file,
      "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: state.nosuch\n  version: v1\n",
    );
    const result = await runCli(["run", "--app-id", "errs1", "--resources-path", dir], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file} [document 0] orders (state.nosuch) spec.type (line 6)`,
    );
    expect(result.stderr).toContain("no outrig package provides it");
  });

  it("a component that fails to start: file, component, type and field", async () => {
    const dir = join(home, "components-broken");
    await mkdir(dir, { recursive: true });
    const file = join(dir, "statestore.yaml");
    await writeFile(
      file,
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: orders\nspec:\n  type: state.sqlite\n  metadata:\n    - name: connectionString\n      value: ${join(file, "state.db")}\n`,
    );
    const result = await runCli(["run", "--app-id", "errs2", "--resources-path", dir], { home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file} [document 0] component orders (state.sqlite) spec.metadata.connectionString (line 8)`,
    );
  });

  it("stop without a selector, and stop of an app that is not running", async () => {
    const none = await runCli(["stop"], { home });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("--app-id");
    const absent = await runCli(["stop", "--app-id", "ghost"], { home });
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain('no running app with id "ghost"');
  });
});
