import { delimiter, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createProgram } from "../src/cli.ts";
import { completionScript } from "../src/completion.ts";
import { componentSearchPath, installHint, packageSpec } from "../src/components.ts";
import { runCli, tempHome } from "./helpers.ts";

describe("component packages for a global outrig", () => {
  it("names packages as the user types them: redis is @outrig/redis, specs and tarballs stay", () => {
    expect(packageSpec("redis")).toBe("@outrig/redis");
    expect(packageSpec("@outrig/kafka@0.2.0")).toBe("@outrig/kafka@0.2.0");
    expect(packageSpec("./outrig-redis-0.1.0.tgz")).toBe("./outrig-redis-0.1.0.tgz");
    expect(installHint("@outrig/redis")).toBe("install it with: outrig components add redis");
  });

  it("looks in the app's project, the resources paths, OUTRIG_COMPONENTS_PATH, then ~/.outrig/components", () => {
    const env = { OUTRIG_COMPONENTS_PATH: ["/opt/a", "rel/b"].join(delimiter) };
    expect(
      componentSearchPath({
        appDir: "/app",
        resourcesPaths: ["/app/resources"],
        componentsDir: "/home/u/.outrig/components",
        env,
      }),
    ).toEqual(["/app", "/app/resources", "/opt/a", resolve("rel/b"), "/home/u/.outrig/components"]);
  });

  it("outrig components list is empty before anything is added", async () => {
    const { home, cleanup } = await tempHome();
    try {
      const result = await runCli(["components", "list"], { home });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("No component packages installed.");
      const removed = await runCli(["components", "remove", "redis"], { home });
      expect(removed.code).toBe(1);
      expect(removed.stderr).toContain(
        `@outrig/redis is not installed in ${join(home, "components")}`,
      );
    } finally {
      await cleanup();
    }
  });
});

describe("outrig version and completion", () => {
  it("prints the CLI and runtime versions as dapr version does", async () => {
    const { home, cleanup } = await tempHome();
    try {
      const text = await runCli(["version"], { home });
      expect(text.stdout).toMatch(
        /^CLI version: \d+\.\d+\.\d+ \nRuntime version: \d+\.\d+\.\d+\n$/,
      );
      const json = await runCli(["version", "-o", "json"], { home });
      expect(Object.keys(JSON.parse(json.stdout))).toEqual(["Cli version", "Runtime version"]);
    } finally {
      await cleanup();
    }
  });

  it("completes every command and flag, for bash and zsh", () => {
    const program = createProgram(() => {});
    const bash = completionScript(program, "bash");
    expect(bash).toContain("complete -o default -F _outrig_complete outrig");
    expect(bash).toMatch(/"run"\) words="[^"]*--app-id[^"]*--run-file/);
    expect(bash).toMatch(/"components"\) words="add list remove/);
    expect(bash).toMatch(/""\) words="init run components version completion list dashboard stop/);
    expect(bash).toMatch(/"dashboard"\) words="[^"]*--port[^"]*--address/);
    expect(completionScript(program, "zsh")).toMatch(
      /^#compdef outrig\nautoload -U \+X bashcompinit/,
    );
  });
});
