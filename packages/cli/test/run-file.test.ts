import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRunFile, outrigPaths } from "../src/index.ts";
import { tempHome } from "./helpers.ts";

describe("multi-app run files", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  async function project(files: Record<string, string>, dirs: string[] = []) {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const root = join(home, "project");
    for (const dir of dirs) await mkdir(join(root, dir), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(root, name, ".."), { recursive: true });
      await writeFile(join(root, name), content);
    }
    return { home, root, paths: outrigPaths(join(home, "outrig-home")) };
  }

  it("reads Dapr's format from a dapr.yaml in a directory, with Dapr's precedence rules", async () => {
    const { root, paths } = await project(
      {
        "shipping-svc/config.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Configuration\n",
        "dapr.yaml": `version: 1
common:
  resourcesPath: ./shared-resources
  logLevel: debug
  env:
    SHARED: common
    OVERRIDDEN: common
  daprdLogDestination: console
apps:
  - appDirPath: ./orders
    appPort: 3001
    daprHTTPPort: 3601
    command: ["node", "app.js"]
    env:
      OVERRIDDEN: app
  - appID: shipping
    appDirPath: ./shipping-svc
    resourcesPaths: [../shipping-resources]
    resourcesPath: ./own-resources
    configFilePath: ./config.yaml
    appLogDestination: file
    appMaxConcurrency: 2
    command: [node, server.js, 8080]
  - appDirPath: ./local
`,
      },
      [
        "orders",
        "shipping-svc",
        "local/.outrig/resources",
        "shared-resources",
        "shipping-resources",
        "shipping-svc/own-resources",
      ],
    );
    const runFile = await loadRunFile(root, paths);
    expect(runFile.path).toBe(join(root, "dapr.yaml"));
    expect(runFile.warnings).toEqual([]);
    const [orders, shipping, local] = runFile.apps;

    expect(orders).toMatchObject({
      appId: "orders",
      appPort: 3001,
      httpPort: 3601,
      command: ["node", "app.js"],
      cwd: join(root, "orders"),
      logLevel: "debug",
      env: { SHARED: "common", OVERRIDDEN: "app" },
      resources: { paths: [join(root, "shared-resources")], embedded: false },
      appLog: { destination: "fileAndConsole" },
      sidecarLog: { destination: "console" },
      labels: { app: "== APP - orders ==", sidecar: "== OUTRIG - orders ==" },
      runFile: join(root, "dapr.yaml"),
    });
    expect(orders?.appLog.filePath).toMatch(
      new RegExp(`^${join(root, "orders", ".outrig", "logs")}/orders_app_\\d{14}\\.log$`),
    );

    expect(shipping).toMatchObject({
      appId: "shipping",
      command: ["node", "server.js", "8080"],
      // An app's own paths resolve from its appDirPath (Dapr's rule); both resources fields count.
      resources: {
        paths: [join(root, "shipping-resources"), join(root, "shipping-svc", "own-resources")],
      },
      configFile: join(root, "shipping-svc", "config.yaml"),
      appLog: { destination: "file" },
      appMaxConcurrency: 2,
    });

    // The app's own .outrig/resources beats common; no command means a sidecar alone.
    expect(local).toMatchObject({
      appId: "local",
      command: [],
      resources: { paths: [join(root, "local", ".outrig", "resources")] },
    });
  });

  it("falls back to the embedded defaults when nothing names resources and init never ran", async () => {
    const { root, paths } = await project({
      "outrig.yaml": "version: 1\napps:\n  - appDirPath: .\n",
    });
    const runFile = await loadRunFile(join(root, "outrig.yaml"), paths);
    expect(runFile.apps[0]?.resources).toEqual({ paths: [], embedded: true });
    expect(runFile.apps[0]?.appId).toBe("project");
  });

  it("names every field it ignores: Dapr-only ones and unknown ones (typos)", async () => {
    const { root, paths } = await project({
      "outrig.yaml": `version: 1
kind: something
common:
  placementHostAddress: localhost:50005
  metricsPort: 9090
apps:
  - appDirPath: .
    appPorts: 3000
    readBufferSize: 4Ki
`,
    });
    const runFile = await loadRunFile(root, paths);
    expect(runFile.warnings).toEqual([
      "kind: unknown field, ignored",
      "common.placementHostAddress: the actor placement is embedded; no address is used, ignored",
      // Per app in Dapr's run files (RunConfig, not SharedRunConfig).
      "common.metricsPort: unknown field, ignored",
      "apps[0].appPorts: unknown field, ignored",
      "apps[0].readBufferSize: not supported yet, ignored",
    ]);
    expect(runFile.apps[0]?.appPort).toBeUndefined();
  });

  it("resolves common's paths from the run file's folder and inherits common where an app leaves a field zero", async () => {
    const { root, paths } = await project(
      {
        "deploy/dapr.yaml": `version: 1
common:
  resourcesPaths: [./resources]
  configFilePath: ./config.yaml
  enableApiLogging: true
  appMaxConcurrency: 3
apps:
  - appDirPath: ../svc
    enableApiLogging: false
    appMaxConcurrency: 0
`,
        "deploy/config.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Configuration\n",
      },
      ["deploy/resources", "svc"],
    );
    const [svc] = (await loadRunFile(join(root, "deploy"), paths)).apps;
    expect(svc).toMatchObject({
      appId: "svc",
      cwd: join(root, "svc"),
      resources: { paths: [join(root, "deploy", "resources")] },
      configFile: join(root, "deploy", "config.yaml"),
      enableApiLogging: true,
      appMaxConcurrency: 3,
    });
  });

  it("names the app's field when a path relative to its appDirPath does not exist", async () => {
    const { root, paths } = await project(
      { "dapr.yaml": "version: 1\napps:\n  - appDirPath: ./svc\n    resourcesPath: ./resources\n" },
      ["svc", "resources"],
    );
    await expect(loadRunFile(root, paths)).rejects.toThrow(
      `apps[0].resourcesPaths: resources directory not found: ${join(root, "svc", "resources")}`,
    );
  });

  it("refuses a field whose absence would break the app (unixDomainSocket), naming it", async () => {
    const { root, paths } = await project({
      "dapr.yaml": "version: 1\napps:\n  - appDirPath: .\n    unixDomainSocket: /tmp/s\n",
    });
    await expect(loadRunFile(root, paths)).rejects.toThrow(
      /apps\[0\]\.unixDomainSocket: not supported yet/,
    );
  });

  it("takes appProtocol grpc from common or the app, and refuses https, grpcs and h2c by name", async () => {
    const { root, paths } = await project(
      {
        "dapr.yaml":
          "version: 1\ncommon:\n  appProtocol: grpc\napps:\n  - appDirPath: a\n  - appDirPath: b\n    appProtocol: http\n",
      },
      ["a", "b"],
    );
    const apps = (await loadRunFile(root, paths)).apps;
    expect(apps.map((a) => [a.appId, a.appProtocol])).toEqual([
      ["a", "grpc"],
      ["b", "http"],
    ]);
    for (const protocol of ["https", "grpcs", "h2c"]) {
      const bad = await project({
        "dapr.yaml": `version: 1\napps:\n  - appDirPath: .\n    appProtocol: ${protocol}\n`,
      });
      await expect(loadRunFile(bad.root, bad.paths)).rejects.toThrow(
        /apps\[0\]\.appProtocol: only http and grpc are supported/,
      );
    }
  });

  it("rejects duplicate app ids, naming the second one", async () => {
    const { root, paths } = await project(
      {
        "outrig.yaml":
          "version: 1\napps:\n  - appDirPath: a\n    appID: x\n  - appDirPath: b\n    appID: x\n",
      },
      ["a", "b"],
    );
    await expect(loadRunFile(root, paths)).rejects.toThrow(
      /apps\[1\]\.appID: duplicate app id "x"/,
    );
  });
});
