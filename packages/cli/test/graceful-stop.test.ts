// Issue 14 §6 through the CLI: SIGTERM to `outrig run` drains the sidecar while the app still
// runs, so an invocation in flight is answered; only then is the app stopped (dapr's order).

import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { CliProcess, tempHome } from "./helpers.ts";

const app = fileURLToPath(new URL("./fixtures/slow-app.mjs", import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

it("SIGTERM while an invocation is in flight: the call is answered, then Dapr and the app exit in that order", async () => {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const [appPort, httpPort] = [await freePort(), await freePort()];
  const cli = new CliProcess(
    [
      "run",
      "--app-id",
      "slowapp",
      "--app-port",
      String(appPort),
      "--dapr-http-port",
      String(httpPort),
      "--",
      process.execPath,
      app,
    ],
    { home },
  );
  cleanups.push(() => cli.stop("SIGKILL"));
  await cli.waitFor(/You're up and running/, 30_000);

  const call = fetch(`http://127.0.0.1:${httpPort}/v1.0/invoke/slowapp/method/slow`);
  await sleep(300);
  cli.child.kill("SIGTERM");
  const res = await call;
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("done");
  expect(await cli.exited).toBe(0);
  const dapr = cli.output.indexOf("Exited Dapr successfully");
  expect(dapr).toBeGreaterThanOrEqual(0);
  expect(cli.output.indexOf("Exited App successfully")).toBeGreaterThan(dapr);
}, 60_000);
