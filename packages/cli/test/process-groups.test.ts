import { readFileSync } from "node:fs";
import { cp, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isAlive } from "../src/index.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const quickstart = fileURLToPath(new URL("./fixtures/quickstart/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
// npm must not look for updates (no network in CI) nor print its notices into the app's output.
const npmEnv = { npm_config_update_notifier: "false", npm_config_fund: "false" };

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

/** Every live process whose process group is `pgid` (Linux /proc). */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state, fields[2] the process group; a zombie is already gone.
      if (Number(fields[2]) === pgid && fields[0] !== "Z") members.push(Number(name));
    } catch {
      // Exited while we looked.
    }
  }
  return members;
}

async function appPids(dir: string): Promise<{ server: number; helper: number }> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      return JSON.parse(await readFile(join(dir, "pids.json"), "utf8"));
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${dir}: the app never wrote its pids`);
}

/** Polls until none of `pids` is alive or `ms` pass; returns the ones still alive. */
async function survivorsAfter(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  const alive = (pid: number) => isAlive(pid) && !isZombie(pid);
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  return pids.filter(alive);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

describe.runIf(process.platform === "linux")("app process groups", { timeout: 60_000 }, () => {
  it("outrig stop -f . ends every process of a two-app `npm start` run file within 5 s", async () => {
    const { home, root } = await project();
    const [orderPort, checkoutPort] = [await freePort(), await freePort()];
    await writeFile(
      join(root, "dapr.yaml"),
      `version: 1
apps:
  - appID: order-processor
    appDirPath: ./order-processor/
    appPort: ${orderPort}
    command: ["npm", "start"]
  - appID: checkout
    appDirPath: ./checkout/
    appPort: ${checkoutPort}
    command: ["npm", "start"]
`,
    );
    const cli = new CliProcess(["run", "-f", "."], { home, cwd: root, env: npmEnv });
    running.push(cli);
    const order = await appPids(join(root, "order-processor"));
    const checkout = await appPids(join(root, "checkout"));
    const records = await Promise.all(
      ["order-processor", "checkout"].map(
        async (id) => JSON.parse(await readFile(join(home, "apps", `${id}.json`), "utf8")).appPid,
      ),
    );
    // npm, the sh it runs the script with, node server.mjs and its helper: all in the app's group.
    const processes = [...new Set((await Promise.all(records.map(groupMembers))).flat())];
    for (const pid of [order.server, order.helper, checkout.server, checkout.helper]) {
      expect(processes).toContain(pid);
    }
    expect(processes.length).toBeGreaterThanOrEqual(8);

    const stop = await runCli(["stop", "-f", "."], { home, cwd: root });
    expect(stop.code, stop.stderr).toBe(0);
    expect(await survivorsAfter([...processes, cli.child.pid as number], 5_000)).toEqual([]);
    expect(await cli.exited).toBe(0);
  });

  it("a SIGKILLed outrig run takes its app with it, and the app id can be reused at once", async () => {
    const { home, root } = await project();
    const appPort = await freePort();
    const args = ["run", "--app-id", "orphan", "--app-port", String(appPort), "--", "npm", "start"];
    const cwd = join(root, "order-processor");
    const cli = new CliProcess(args, { home, cwd, env: npmEnv });
    running.push(cli);
    const pids = await appPids(cwd);
    const record = JSON.parse(await readFile(join(home, "apps", "orphan.json"), "utf8"));
    const processes = await groupMembers(record.appPid);
    expect(processes).toContain(pids.server);

    cli.child.kill("SIGKILL");
    // Restarted within milliseconds: the dead owner's entry is stale, not "already running"
    // (before its parent reaps it, a SIGKILLed process is a zombie that kill(pid, 0) still finds).
    const again = new CliProcess(["run", "--app-id", "orphan"], { home, cwd });
    running.push(again);
    expect(await survivorsAfter(processes, 5_000)).toEqual([]);
    await again.waitFor(/You're up and running/);
    expect(again.output).not.toContain("already running");
  });
});
