import { readdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const exampleApp = fileURLToPath(new URL("../examples/app.js", import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("the README walk-through with examples/app.js", { timeout: 60_000 }, () => {
  it("saves through invocation, reads back, and receives a published event", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    expect((await runCli(["init"], { home })).code).toBe(0);
    const appPort = await freePort();
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "myapp",
        "--app-port",
        String(appPort),
        "--",
        process.execPath,
        exampleApp,
      ],
      { home },
    );
    cleanups.push(async () => {
      await cli.stop();
    });
    const [, port] = await cli.waitFor(/HTTP Port: (\d+)/);
    await cli.waitFor(/You're up and running/);
    const sidecar = `http://127.0.0.1:${port}/v1.0`;

    const order = await post(`${sidecar}/invoke/myapp/method/neworder`, {
      data: { orderId: "42" },
    });
    expect(order.status).toBe(200);
    expect(await order.json()).toEqual({ orderId: "42" });
    expect(await (await fetch(`${sidecar}/invoke/myapp/method/order`)).json()).toEqual({
      orderId: "42",
    });
    expect(await (await fetch(`${sidecar}/state/statestore/order`)).json()).toEqual({
      orderId: "42",
    });

    expect((await post(`${sidecar}/publish/pubsub/orders`, { orderId: "43" })).status).toBe(204);
    await cli.waitFor(/== APP == Received order event [\w-]+: \{"orderId":"43"\}/);
    expect(await (await fetch(`${sidecar}/state/statestore/last-event`)).json()).toEqual({
      orderId: "43",
    });

    // The example handles SIGTERM itself and exits 0, so outrig does too.
    expect(await cli.stop("SIGTERM")).toBe(0);
  });
});

describe("a registry entry left by a killed outrig", { timeout: 60_000 }, () => {
  it("is ignored by list and removed", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    // A sidecar alone, so the SIGKILL below orphans no app process.
    const cli = new CliProcess(["run", "--app-id", "doomed"], { home });
    await cli.waitFor(/You're up and running/);
    expect(await readdir(join(home, "apps"))).toEqual(["doomed.json"]);
    await cli.stop("SIGKILL");
    const list = await runCli(["list", "-o", "json"], { home });
    expect(JSON.parse(list.stdout)).toEqual([]);
    expect(await readdir(join(home, "apps"))).toEqual([]);
    // The id is free again.
    const again = new CliProcess(["run", "--app-id", "doomed"], { home });
    cleanups.push(async () => {
      await again.stop();
    });
    await again.waitFor(/You're up and running/);
  });
});
