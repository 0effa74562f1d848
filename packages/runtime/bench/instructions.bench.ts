// Observability's cost as instructions per request, counted by callgrind: the sidecar with metrics
// on, and with tracing at samplingRate "1" and metrics on, each against the same sidecar with both
// off, for state get and service invocation. CPU time per request moved by 30% or more from run
// to run on a 2-core VM; an instruction count is the same within a few percent whatever else the
// machine does. It counts user space only (each process's own code, V8's compiler and GC threads
// included): the kernel's share (the socket calls) is alike in both, so the ratio is an upper
// bound on the ratio of CPU time.
// Run: pnpm --filter @outrig/runtime bench:instructions (needs valgrind; about 10 minutes on 2 cores).
// Environment: BENCH_WARM_REQUESTS (default 30000) answered before counting, BENCH_REQUESTS
// (default 16000) counted, BENCH_ONLY=get or invocation for one of the two.
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const here = dirname(fileURLToPath(import.meta.url));
const WARM = Number(process.env.BENCH_WARM_REQUESTS ?? 30_000);
const COUNTED = Number(process.env.BENCH_REQUESTS ?? 16_000);
const ONLY = process.env.BENCH_ONLY;
const PAYLOAD = JSON.stringify("x".repeat(1022));
const children: ChildProcess[] = [];

try {
  execFileSync("valgrind", ["--version"], { stdio: "ignore" });
} catch {
  throw new Error("bench:instructions needs valgrind (Debian's valgrind package) on PATH");
}

/** The first line a child prints: its {"port": N}. */
async function portOf(child: ChildProcess): Promise<number> {
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, "line")) as [string];
  return (JSON.parse(line) as { port: number }).port;
}

interface Load {
  method: "GET" | "POST";
  path: string;
  body?: string;
}

const loads: Record<string, Load> = {
  "state get": { method: "GET", path: "/v1.0/state/statestore/bench" },
  "service invocation": { method: "POST", path: "/v1.0/invoke/bench/method/echo", body: PAYLOAD },
};

/**
 * Exactly `amount` requests of `load`, 16 connections; with `strict` any failed one fails the
 * run (the warm-up's may fail: under valgrind the first calls to the app can outlast a timeout).
 */
async function drive(port: number, load: Load, amount: number, strict: boolean): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${load.path}`,
    connections: 16,
    amount,
    timeout: 60,
    method: load.method,
    ...(load.body ? { body: load.body, headers: { "content-type": "application/json" } } : {}),
  });
  if (strict && result.errors + result.timeouts + result.non2xx > 0)
    throw new Error(`${load.path}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
  return result.requests.total;
}

/** Instructions per request of one sidecar mode (off | on | traced) answering `load`. */
async function count(mode: string, load: Load, appPort: number, dir: string): Promise<number> {
  const out = join(dir, `${mode}-${load.method}.%p`);
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--instr-atstart=no",
      `--callgrind-out-file=${out}`,
      process.execPath,
      "--conditions=@outrig/source",
      join(here, "servers.js"),
      "sidecar",
      String(appPort),
      mode,
    ],
    { env: { ...process.env, BENCH_SOURCE: "1" }, stdio: ["ignore", "pipe", "ignore"] },
  );
  children.push(child);
  const port = await portOf(child);
  await fetch(`http://127.0.0.1:${port}/v1.0/state/statestore`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `[{"key":"bench","value":${PAYLOAD}}]`,
  });
  await drive(port, load, WARM, false);
  const pid = String(child.pid);
  execFileSync("callgrind_control", ["--instr=on", pid], { stdio: "ignore" });
  const answered = await drive(port, load, COUNTED, true);
  execFileSync("callgrind_control", ["--instr=off", pid], { stdio: "ignore" });
  execFileSync("callgrind_control", ["--dump", pid], { stdio: "ignore" });
  child.kill("SIGTERM");
  await once(child, "exit");
  // The dump on request and the one at exit: only the first saw instrumentation on.
  let total = 0;
  const prefix = `${mode}-${load.method}.${pid}`;
  for (const file of readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), "utf8"));
    total += Number(totals?.[1] ?? 0);
  }
  return total / answered;
}

const dir = mkdtempSync(join(tmpdir(), "outrig-instructions-"));
try {
  const app = fork(join(here, "servers.js"), ["app"], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  children.push(app);
  const appPort = await portOf(app);
  console.log(
    `outrig observability, instructions per request under callgrind (${WARM} requests answered first, ${COUNTED} counted, 16 connections, 1 KB)`,
  );
  for (const [name, load] of Object.entries(loads)) {
    if (ONLY && !name.includes(ONLY)) continue;
    // All three at once: valgrind runs each on one thread, and a count does not depend on speed.
    const [off, on, traced] = await Promise.all([
      count("off", load, appPort, dir),
      count("on", load, appPort, dir),
      count("traced", load, appPort, dir),
    ]);
    const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
    console.log(`\n${name}: both off ${k(off)}`);
    console.log(`  metrics on                      ${k(on)} (${(on / off).toFixed(2)}x)`);
    console.log(
      `  tracing + metrics on            ${k(traced)} (${(traced / off).toFixed(2)}x; target <= 1.15x)`,
    );
  }
} finally {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
}
