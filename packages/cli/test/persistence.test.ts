import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function startSidecar(home: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = new CliProcess(["run", "--app-id", "durable"], { home });
  running.push(cli);
  const [, port] = await cli.waitFor(/HTTP Port: (\d+)/);
  await cli.waitFor(/You're up and running/);
  return { cli, url: `http://127.0.0.1:${port}/v1.0/state/statestore` };
}

describe("state through outrig run on the defaults of outrig init", { timeout: 60_000 }, () => {
  it("survives stopping and restarting outrig (SQLite under OUTRIG_HOME)", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    expect((await runCli(["init"], { home })).code).toBe(0);

    const first = await startSidecar(home);
    expect(first.cli.output).toMatch(
      /component loaded.*component_type=state\.sqlite.*name=statestore/,
    );
    const saved = await fetch(first.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "user-1", value: { name: "Alice", score: 42 } }]),
    });
    expect(saved.status).toBe(204);
    expect(await first.cli.stop("SIGTERM")).toBe(0);

    const second = await startSidecar(home);
    const read = await fetch(`${second.url}/user-1`);
    expect(read.status).toBe(200);
    expect(read.headers.get("etag")).toBeTruthy();
    expect(await read.json()).toEqual({ name: "Alice", score: 42 });
    expect(await second.cli.stop("SIGINT")).toBe(0);
  });

  it("without init, the embedded SQLite default keeps state across restarts too", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const first = await startSidecar(home);
    await fetch(first.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "k", value: 1 }]),
    });
    expect((await fetch(`${first.url}/k`)).status).toBe(200);
    await first.cli.stop();
    const second = await startSidecar(home);
    const read = await fetch(`${second.url}/k`);
    expect(read.status).toBe(200);
    expect(await read.json()).toBe(1);
    await second.cli.stop();
  });
});
