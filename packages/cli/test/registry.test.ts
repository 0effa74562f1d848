import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AppRecord, AppRegistry, CliError, outrigPaths } from "../src/index.ts";
import { processStartTicks } from "../src/registry.ts";
import { tempHome } from "./helpers.ts";

function record(appId: string, cliPid: number): AppRecord {
  return {
    appId,
    httpPort: 3500,
    grpcPort: 50001,
    appPort: 3000,
    appHost: "127.0.0.1",
    cliPid,
    command: ["node", "app.js"],
    startedAt: new Date().toISOString(),
  };
}

/** The pid of a process that has certainly exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("the local app registry", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  async function registry(): Promise<AppRegistry> {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    return new AppRegistry(outrigPaths(home).apps);
  }

  it("stores one JSON file per app and leaves no temp files behind", async () => {
    const apps = await registry();
    await apps.register(record("orders", process.pid));
    await apps.register(record("checkout", process.pid));
    expect((await readdir(apps.dir)).sort()).toEqual(["checkout.json", "orders.json"]);
    const stored = JSON.parse(await readFile(join(apps.dir, "orders.json"), "utf8"));
    expect(stored).toMatchObject({ appId: "orders", httpPort: 3500, cliPid: process.pid });
    expect((await apps.list()).map((r) => r.appId)).toEqual(["checkout", "orders"]);
  });

  it("ignores and deletes entries whose process is gone", async () => {
    const apps = await registry();
    await apps.write(record("ghost", deadPid()));
    await apps.register(record("alive", process.pid));
    expect(await apps.get("ghost")).toBeUndefined();
    expect((await apps.list()).map((r) => r.appId)).toEqual(["alive"]);
    expect(await readdir(apps.dir)).toEqual(["alive.json"]);
  });

  it("treats a live pid that started at another time as a recycled pid: stale", async () => {
    const apps = await registry();
    const ticks = processStartTicks(process.pid);
    await apps.write({ ...record("recycled", process.pid), cliStartTicks: (ticks ?? 0) + 1 });
    await apps.write({ ...record("current", process.pid), cliStartTicks: ticks });
    const expected = process.platform === "linux" ? ["current"] : ["current", "recycled"];
    expect((await apps.list()).map((r) => r.appId)).toEqual(expected);
  });

  it("skips unreadable files instead of failing", async () => {
    const apps = await registry();
    await apps.register(record("alive", process.pid));
    await writeFile(join(apps.dir, "garbage.json"), "{not json");
    expect((await apps.list()).map((r) => r.appId)).toEqual(["alive"]);
  });

  it("refuses an app id held by another live process, and takes over a stale one", async () => {
    const apps = await registry();
    await apps.write(record("orders", process.ppid));
    await expect(apps.register(record("orders", process.pid))).rejects.toThrow(CliError);
    await expect(apps.register(record("orders", process.pid))).rejects.toThrow(/already running/);

    await apps.write(record("billing", deadPid()));
    await apps.register(record("billing", process.pid));
    expect((await apps.get("billing"))?.cliPid).toBe(process.pid);
  });

  it.runIf(process.platform === "linux")(
    "takes over at once from an owner that was SIGKILLed but not reaped yet (a zombie)",
    async () => {
      const apps = await registry();
      // `exec sleep` leaves the backgrounded sleep with a parent that never reaps it.
      const parent = spawn("/bin/sh", ["-c", "sleep 30 & echo $!; exec sleep 30"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      cleanups.push(async () => {
        parent.kill("SIGKILL");
      });
      const pid = Number(
        await new Promise<string>((r) => parent.stdout.once("data", (c) => r(String(c)))),
      );
      await apps.write(record("killed", pid));
      process.kill(pid, "SIGKILL");
      const state = () => {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      };
      while (state() !== "Z") await new Promise((r) => setTimeout(r, 10));
      await apps.register(record("killed", process.pid));
      expect((await apps.get("killed"))?.cliPid).toBe(process.pid);
    },
  );

  it("unregister removes only the caller's own entry", async () => {
    const apps = await registry();
    await apps.write(record("orders", process.ppid));
    await apps.unregister("orders", process.pid);
    expect((await apps.get("orders"))?.cliPid).toBe(process.ppid);
    await apps.unregister("orders", process.ppid);
    expect(await apps.get("orders")).toBeUndefined();
  });
});
