// The lines the dapr CLI prints (cmd/run.go), in its order: scripts and CI pipelines wait for them.
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, tempHome } from "./helpers.ts";

const quickstart = fileURLToPath(new URL("./fixtures/quickstart/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop("SIGKILL")));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function project(): Promise<{ home: string; root: string }> {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const root = join(home, "quickstart");
  await cp(quickstart, root, { recursive: true });
  return { home, root };
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Asserts that `lines` occur in `output` in this order. */
function expectInOrder(output: string, lines: readonly string[]): void {
  let from = 0;
  for (const line of lines) {
    const at = output.indexOf(line, from);
    expect(
      at,
      `${JSON.stringify(line)} after offset ${from} in:\n${output}`,
    ).toBeGreaterThanOrEqual(0);
    from = at + line.length;
  }
}

describe("the dapr CLI's lifecycle lines", { timeout: 60_000 }, () => {
  it("single app: starting, up and running, then on a signal Dapr's exit before the app's", async () => {
    const { home, root } = await project();
    const port = await freePort();
    const cwd = join(root, "checkout");
    const cli = new CliProcess(
      ["run", "--app-id", "lines", "--app-port", String(port), "--", "node", "../server.mjs"],
      { home, cwd },
    );
    running.push(cli);
    await cli.waitFor(/You're up and running! Both Dapr and your app logs will appear here\./);
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    expectInOrder(cli.output, [
      "Starting Dapr with id lines. HTTP Port: ",
      "Updating metadata for appPID: ",
      "Updating metadata for app command: node ../server.mjs",
      "You're up and running! Both Dapr and your app logs will appear here.",
      "terminated signal received: shutting down",
      "Exited Dapr successfully",
      "Exited App successfully",
    ]);
  });

  it("run file: validating, started and the log directory, per app in file order", async () => {
    const { home, root } = await project();
    await writeFile(
      join(root, "dapr.yaml"),
      `version: 1
apps:
  - appID: order-processor
    appDirPath: ./order-processor/
  - appID: checkout
    appDirPath: ./checkout/
`,
    );
    const cli = new CliProcess(["run", "-f", "."], { home, cwd: root });
    running.push(cli);
    await cli.waitFor(/Started Dapr with app id "checkout"[^\n]*\n[^\n]*Writing log files[^\n]*\n/);
    expectInOrder(cli.output, [
      'Validating config and starting app "order-processor"',
      'Started Dapr with app id "order-processor". HTTP Port: ',
      `Writing log files to directory : ${join(root, "order-processor", ".outrig", "logs")}`,
      'Validating config and starting app "checkout"',
      'Started Dapr with app id "checkout". HTTP Port: ',
      `Writing log files to directory : ${join(root, "checkout", ".outrig", "logs")}`,
    ]);
    // The readiness line goes to each app's sidecar log, as Dapr's goes to its daprd log.
    expect(cli.output).not.toContain("You're up and running");
  });

  it("--log-as-json: the sidecar's lines with daprd's fields, the CLI's with the dapr CLI's", async () => {
    const { home } = await project();
    const cli = new CliProcess(["run", "--app-id", "json", "--log-as-json"], { home });
    running.push(cli);
    await cli.waitFor(/You're up and running! Dapr logs will appear here/);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    const lines = cli.output.split("\n").filter(Boolean);
    const own = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(own.length).toBeGreaterThan(0);
    for (const line of own) expect(Object.keys(line).sort()).toEqual(["msg", "status", "time"]);
    expect(own).toContainEqual(
      expect.objectContaining({
        status: "success",
        msg: expect.stringContaining("up and running"),
      }),
    );
    const sidecar = lines
      .filter((l) => l.startsWith("== OUTRIG == "))
      .map((l) => JSON.parse(l.slice("== OUTRIG == ".length)));
    expect(sidecar.length).toBeGreaterThan(0);
    for (const line of sidecar) {
      expect(line).toMatchObject({ app_id: "json", type: "log", scope: "outrig.runtime" });
      for (const key of ["time", "level", "msg", "instance", "ver"])
        expect(line).toHaveProperty(key);
    }
  });

  it("an app that never listens is reported as awaited, and its exit code is outrig's", async () => {
    const { home } = await project();
    const port = await freePort();
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "deaf",
        "--app-port",
        String(port),
        "--",
        process.execPath,
        "-e",
        "setTimeout(() => process.exit(4), 5600)",
      ],
      { home },
    );
    running.push(cli);
    expect(await cli.exited).toBe(4);
    expect(cli.output).toContain(`deaf: waiting for the app to listen on port ${port}`);
    expect(cli.output).toContain("The App process exited with error code: exit status 4");
    expect(cli.output).not.toContain("You're up and running");
  });
});
