// Every `dapr run` flag and run-file field is accepted: honoured, or warned about / refused by
// name as not supported yet; and the README's table lists each one with what outrig does.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DAPR_RUN_FILE_FIELDS, DAPR_RUN_FLAGS, type DaprFlag } from "../src/dapr-flags.ts";
import { runCli, tempHome } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function home(): Promise<string> {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  return home;
}

/** A valid value for each flag that takes one. */
async function freePort(): Promise<string> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(String(typeof address === "object" && address?.port)));
    });
  });
}

const ports = { http: "", grpc: "" };

function sampleValue(flag: DaprFlag, dir: string): string {
  const samples: Record<string, string> = {
    "app-id": "flags",
    "app-port": "45999",
    "dapr-http-port": ports.http,
    "dapr-grpc-port": ports.grpc,
    "dapr-internal-grpc-port": "45997",
    config: join(dir, "config.yaml"),
    "resources-path": join(dir, "resources"),
    "components-path": join(dir, "resources"),
    "app-protocol": "http",
    "app-channel-address": "127.0.0.1",
    "app-max-concurrency": "2",
    "log-level": "debug",
    "max-body-size": "8Mi",
    "dapr-http-max-request-size": "8",
    "dapr-graceful-shutdown-seconds": "1",
    "dapr-listen-addresses": "127.0.0.1",
    "app-health-check-path": "/healthz",
    "app-health-probe-interval": "5",
    "app-health-probe-timeout": "500",
    "app-health-threshold": "3",
    "metrics-port": "45996",
    "enable-metrics": "true",
    "profile-port": "45995",
    "placement-host-address": "localhost:50005",
    "scheduler-host-address": "localhost:50006",
    "read-buffer-size": "4Ki",
    "dapr-http-read-buffer-size": "4",
    "runtime-path": dir,
    "unix-domain-socket": dir,
  };
  const value = samples[flag.name];
  if (value === undefined) throw new Error(`no sample value for --${flag.name}`);
  return value;
}

function args(flags: readonly DaprFlag[], dir: string): string[] {
  return flags.flatMap((f) => [`--${f.name}`, ...(f.value ? [sampleValue(f, dir)] : [])]);
}

describe("dapr run's flags", { timeout: 60_000 }, () => {
  it("accepts every honoured and not-yet flag in one run, warning about each not-yet one by name", async () => {
    const dir = await home();
    await mkdir(join(dir, "resources"));
    await writeFile(
      join(dir, "config.yaml"),
      "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: cfg\n",
    );
    ports.http = await freePort();
    ports.grpc = await freePort();
    const accepted = DAPR_RUN_FLAGS.filter((f) => f.support !== "refuse" && f.name !== "run-file");
    const result = await runCli(["run", ...args(accepted, dir), "--", process.execPath, "-e", ""], {
      home: dir,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const flag of accepted.filter((f) => f.support === "warn")) {
      expect(result.stdout).toContain(`--${flag.name}: ${flag.note}; ignored`);
    }
    for (const flag of accepted.filter((f) => f.support === "honoured")) {
      expect(result.stdout).not.toContain(`--${flag.name}: `);
    }
  });

  it("refuses each flag it cannot honour without breaking the app, saying it is not supported yet", async () => {
    const dir = await home();
    for (const flag of DAPR_RUN_FLAGS.filter((f) => f.support === "refuse")) {
      const result = await runCli(["run", "--app-id", "x", ...args([flag], dir)], { home: dir });
      expect(result.code, `--${flag.name}`).toBe(1);
      expect(result.stderr).toContain(`--${flag.name}: not supported yet`);
    }
  });

  it("with --run-file, warns that the other flags belong in the run file (Dapr's rule)", async () => {
    const dir = await home();
    await writeFile(
      join(dir, "dapr.yaml"),
      "version: 1\napps:\n  - appDirPath: .\n    command: [node, -e, '']\n",
    );
    const result = await runCli(["run", "-f", dir, "--app-port", "3000"], { home: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      "The following flags are ignored when using --run-file and should be configured in the run file instead: app-port",
    );
  });

  it("rejects a bad size by name", async () => {
    const dir = await home();
    const result = await runCli(["run", "--max-body-size", "lots"], { home: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--max-body-size: invalid quantity "lots"');
  });
});

describe("the CLI README's table", () => {
  it("lists every dapr run flag and run-file field with what outrig does", async () => {
    const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
    const label = { honoured: "honoured", warn: "not yet (warns)", refuse: "not yet (refused)" };
    const rows = readme.split("\n").filter((line) => line.startsWith("| "));
    const listed = (cell: string, support: keyof typeof label) =>
      rows.some((row) => row.includes(cell) && row.includes(`| ${label[support]} `));
    for (const flag of DAPR_RUN_FLAGS) {
      expect(listed(`\`--${flag.name}\``, flag.support), `--${flag.name}`).toBe(true);
    }
    for (const field of DAPR_RUN_FILE_FIELDS) {
      expect(listed(`| \`${field.name}\` `, field.support), field.name).toBe(true);
    }
  });
});
