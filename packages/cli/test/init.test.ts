import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli, tempHome } from "./helpers.ts";

describe("outrig init", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  it("writes the SQLite statestore, the in-memory pubsub and the configuration", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const result = await runCli(["init"], { home });
    expect(result.code).toBe(0);

    const statestore = parse(await readFile(join(home, "components", "statestore.yaml"), "utf8"));
    expect(statestore).toMatchObject({
      apiVersion: "dapr.io/v1alpha1",
      kind: "Component",
      metadata: { name: "statestore" },
      spec: { type: "state.sqlite", version: "v1" },
    });
    expect(statestore.spec.metadata).toEqual([
      { name: "connectionString", value: join(home, "state.db") },
      { name: "actorStateStore", value: "true" },
    ]);

    const pubsub = parse(await readFile(join(home, "components", "pubsub.yaml"), "utf8"));
    expect(pubsub).toMatchObject({
      kind: "Component",
      metadata: { name: "pubsub" },
      spec: { type: "pubsub.in-memory" },
    });

    const config = parse(await readFile(join(home, "config.yaml"), "utf8"));
    expect(config).toMatchObject({ kind: "Configuration", metadata: { name: "daprConfig" } });
    expect(result.stdout).toContain(`Created ${join(home, "components", "statestore.yaml")}`);
  });

  it("is idempotent: keeps edited files and says they exist; --force rewrites them", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    expect((await runCli(["init"], { home })).code).toBe(0);
    const pubsubPath = join(home, "components", "pubsub.yaml");
    await writeFile(pubsubPath, "# edited by hand\n");

    const again = await runCli(["init"], { home });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${pubsubPath} already exists`);
    expect(await readFile(pubsubPath, "utf8")).toBe("# edited by hand\n");

    const forced = await runCli(["init", "--force"], { home });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`Rewrote ${pubsubPath}`);
    expect(parse(await readFile(pubsubPath, "utf8")).spec.type).toBe("pubsub.in-memory");
  });
});

describe("outrig --version and --help", () => {
  it("prints the package version", async () => {
    const { home, cleanup } = await tempHome();
    const result = await runCli(["--version"], { home });
    await cleanup();
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it("documents every run flag dapr users know", async () => {
    const { home, cleanup } = await tempHome();
    const result = await runCli(["run", "--help"], { home });
    await cleanup();
    expect(result.code).toBe(0);
    for (const flag of [
      "--app-id",
      "--app-port",
      "--dapr-http-port",
      "--resources-path",
      "--components-path",
      "--config",
      "--app-protocol",
      "--log-level",
      "--enable-api-logging",
      "--app-max-concurrency",
      "--app-health-check-path",
      "--run-file",
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});
