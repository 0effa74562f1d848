// Actor method invocation through the sidecar against the same call made straight to the app, at
// a fixed rate (BENCH_RATE calls/s, default 500, Dapr's published figure's rate) over 100 actors:
// prints the latency the sidecar adds (p50/p90/p99) and the sidecar's CPU per call. Rounds of the
// two alternate and each figure is the median over the rounds (@outrig/tools/bench).
// Run: pnpm --filter @outrig/runtime bench:actors (BENCH_PLACEMENT=table for outrig run's placement)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { type Latency, latency, median, medianLatency } from "@outrig/tools/bench";
import { startSidecar } from "../src/index.ts";

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ACTORS = 100;
// `table` measures the placement every `outrig run` uses (leased membership in the scheduler
// store, an epoch check per turn); `local` the single-sidecar one.
const PLACEMENT = (process.env.BENCH_PLACEMENT ?? "local") as "local" | "table";
const dir = mkdtempSync(join(tmpdir(), "outrig-bench-actors-"));

// The app, in its own process: hosts type Bench and answers every method at once.
const APP = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url === "/dapr/config") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ entities: ["Bench"] }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
  });
});
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
`;
const app = spawn(process.execPath, ["-e", APP], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const appPort = await new Promise<number>((resolve) =>
  app.once("message", (m) => resolve((m as { port: number }).port)),
);
const sidecar = await startSidecar({
  appId: "bench-actors",
  appPort,
  httpPort: 0,
  grpcPort: 0,
  enableMetrics: false,
  logger: silentLogger,
  schedulerStore: join(dir, "scheduler.db"),
  actorPlacement: PLACEMENT,
});
await sidecar.ready();

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function call(port: number, path: string): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: "PUT", path, agent, headers: { "content-length": 2 } },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200
            ? resolve(performance.now() - began)
            : reject(new Error(`status ${res.statusCode} for ${path}`)),
        );
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

/** One round at RATE calls/s: each call's latency and this process's CPU per call (µs). */
async function round(port: number, path: (i: number) => string) {
  const total = RATE * SECONDS;
  const cpu0 = process.cpuUsage();
  const began = performance.now();
  const calls: Promise<number>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = began + (i * 1000) / RATE - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    calls.push(call(port, path(i)));
  }
  const latencies = await Promise.all(calls);
  const used = process.cpuUsage(cpu0);
  return { latency: latency(latencies), cpuPerCall: (used.user + used.system) / total };
}

const direct = (i: number) => `/actors/Bench/a${i % ACTORS}/method/ping`;
const viaSidecar = (i: number) => `/v1.0/actors/Bench/a${i % ACTORS}/method/ping`;
await round(appPort, direct); // warm-up: connections, activations, JIT
await round(sidecar.httpPort, viaSidecar);
const runs: { direct: Latency[]; sidecar: Latency[]; cpu: number[] } = {
  direct: [],
  sidecar: [],
  cpu: [],
};
for (let r = 0; r < ROUNDS; r++) {
  const d = await round(appPort, direct);
  const s = await round(sidecar.httpPort, viaSidecar);
  runs.direct.push(d.latency);
  runs.sidecar.push(s.latency);
  // The client is in this process either way: the difference is what the sidecar spent.
  runs.cpu.push(s.cpuPerCall - d.cpuPerCall);
}
const d = medianLatency(runs.direct);
const s = medianLatency(runs.sidecar);
const ms = (v: number) => `${v.toFixed(2)} ms`;
console.log(
  `actor invocation at ${RATE} calls/s over ${ACTORS} actors, placement ${PLACEMENT}, ${ROUNDS} rounds of ${SECONDS} s (median of rounds), ${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
console.log(`  direct to the app     p50 ${ms(d.p50)}  p90 ${ms(d.p90)}  p99 ${ms(d.p99)}`);
console.log(`  through the sidecar   p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}`);
console.log(
  `  added by the sidecar  p50 ${ms(s.p50 - d.p50)}  p90 ${ms(s.p90 - d.p90)}  p99 ${ms(s.p99 - d.p99)} (target p90 <= 1.5 ms)`,
);
console.log(`  sidecar CPU per call  ${median(runs.cpu).toFixed(0)} µs`);

agent.destroy();
await sidecar.stop();
app.kill();
rmSync(dir, { recursive: true, force: true });
