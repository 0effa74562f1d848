// Fire lag of the scheduler: BENCH_JOBS (default 10,000) one-shot jobs all due in the same
// second, scheduled through the HTTP Jobs API of a fresh sidecar per store, one after the other:
// the default SQLite store, then PostgreSQL when BENCH_POSTGRES (a postgres:// URL) is set. An app
// in its own process records when each trigger arrives. Prints, per store, the lag (arrival minus
// due time) p50/p99/max, how many fired and how many came early.
// Run: BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/test pnpm --filter @outrig/runtime bench:jobs
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@outrig/core";
import { percentile } from "@outrig/tools/bench";
import { startSidecar } from "../src/index.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const CONCURRENCY = 64;
const POSTGRES = process.env.BENCH_POSTGRES;

// The app: answers 200 to every trigger and reports (and forgets) arrival times when asked.
const APP = `
const http = require("node:http");
let arrivals = [];
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url.startsWith("/job/")) arrivals.push(Date.now());
    res.writeHead(req.url.startsWith("/job/") ? 200 : 404);
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
process.on("message", (m) => {
  if (m === "report") process.send({ arrivals });
  if (m === "reset") arrivals = [];
});
`;

const app = spawn(process.execPath, ["-e", APP], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
});
const appPort = await new Promise<number>((resolve) =>
  app.once("message", (m) => resolve((m as { port: number }).port)),
);

async function bench(store: "sqlite" | "postgres"): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "outrig-bench-jobs-"));
  app.send("reset");
  const sidecar = await startSidecar({
    // A fresh app per run: a shared store never fires another run's leftovers here.
    appId: `bench-jobs-${randomUUID().slice(0, 8)}`,
    appPort,
    httpPort: 0,
    grpcPort: 0,
    logger: silentLogger,
    schedulerStore: store === "postgres" ? (POSTGRES as string) : join(dir, "scheduler.db"),
  });
  try {
    await sidecar.ready();
    // Time to schedule them all first, so the due second is after the last one is written.
    const began = Date.now();
    let next = 0;
    const due = Math.ceil((began + 5000 + JOBS * 2) / 1000) * 1000;
    const dueTime = new Date(due).toISOString();
    const worker = async (): Promise<void> => {
      while (next < JOBS) {
        const i = next++;
        const r = await fetch(`${sidecar.url}/v1.0-alpha1/jobs/bench-${i}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ dueTime, data: { i } }),
        });
        if (r.status !== 204) throw new Error(`scheduling failed: ${r.status} ${await r.text()}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const scheduledMs = Date.now() - began;
    if (Date.now() >= due)
      console.warn("warning: scheduling ended after the due time; lag is overstated");

    const deadline = due + 120_000;
    let arrivals: number[] = [];
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      app.send("report");
      arrivals = await new Promise<number[]>((resolve) =>
        app.once("message", (m) => resolve((m as { arrivals: number[] }).arrivals)),
      );
      if (arrivals.length >= JOBS && Date.now() > due) break;
    }
    const lags = arrivals.map((a) => a - due).sort((a, b) => a - b);
    const pct = (p: number) => percentile(lags, p);
    const early = lags.filter((l) => l < 0).length;
    console.log(
      `${store === "postgres" ? "PostgreSQL" : "SQLite"} scheduler store: ${JOBS} jobs due at ${dueTime} ` +
        `(scheduled in ${scheduledMs} ms), fired ${arrivals.length}, early ${early}`,
    );
    console.log(
      `  fire lag: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${lags.at(-1)} ms  (load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")})`,
    );
    return arrivals.length >= JOBS && early === 0;
  } finally {
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

let ok = await bench("sqlite");
if (POSTGRES) ok = (await bench("postgres")) && ok;
app.kill();
process.exit(ok ? 0 : 1);
