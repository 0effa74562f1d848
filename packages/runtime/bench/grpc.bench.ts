// The gRPC API's added latency, CPU per request and memory: state get, state save and service
// invocation through the sidecar's gRPC API, against a bare @grpc/grpc-js server answering the
// same Dapr methods from a Map (invocation: echoing), in the same run, rounds alternating.
// Run: pnpm --filter @outrig/runtime bench:grpc   (part of `bench`)
// Environment: BENCH_SECONDS (default 9) per comparison, BENCH_RATE (default 1000),
// BENCH_SOURCE=1 to run the sidecar from TypeScript source instead of the built package.
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { once } from "node:events";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { type Latency, latency, median, medianLatency } from "@outrig/tools/bench";
import { daprProtos } from "../src/grpc/protos.ts";

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 9);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const STREAMS = 16;
const ROUNDS = 3;
const FROM_SOURCE = Boolean(process.env.BENCH_SOURCE);
const PAYLOAD = Buffer.from(JSON.stringify("x".repeat(1022))); // 1 KB
const children: ChildProcess[] = [];

function build(): void {
  const tsc = join(here, "..", "node_modules", ".bin", "tsc");
  for (const pkg of ["core", "memory", "runtime"]) {
    execFileSync(tsc, ["-p", join(here, "..", "..", pkg, "tsconfig.build.json")], {
      stdio: "inherit",
    });
  }
}

async function spawn(
  mode: string,
  ...args: string[]
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(here, "grpc-servers.js"), [mode, ...args], {
    execArgv: [...(FROM_SOURCE ? ["--conditions=@outrig/source"] : []), "--no-warnings"],
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function ask(child: ChildProcess, what: "cpu" | "rss"): Promise<number> {
  child.send(what);
  const [msg] = (await once(child, "message")) as [Record<string, number>];
  return msg[what] as number;
}

type Call = (client: grpc.Client) => Promise<void>;

function unary(method: string, request: object): Call {
  return (client) =>
    new Promise<void>((resolve, reject) => {
      (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!(
        request,
        (error: Error | null) => (error ? reject(error) : resolve()),
      );
    });
}

/**
 * Open loop at RATE calls/s over STREAMS concurrent streams on one HTTP/2 connection: each
 * stream sends on its own fixed schedule; latency is measured from the scheduled send time, so a
 * slow answer delays nothing it should not (no coordinated omission).
 */
async function drive(
  port: number,
  call: Call,
  seconds: number,
  latencies: number[],
): Promise<number> {
  const { dapr } = daprProtos();
  const client = new dapr.dapr.proto.runtime.v1.Dapr(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client;
  const interval = (1000 * STREAMS) / RATE;
  const start = performance.now() + 5;
  const end = start + seconds * 1000;
  let errors = 0;
  await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      for (let at = start + (i * interval) / STREAMS; at < end; at += interval) {
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        try {
          await call(client);
          latencies.push(performance.now() - at);
        } catch {
          errors++;
        }
      }
    }),
  );
  client.close();
  return errors;
}

async function compare(
  name: string,
  sidecar: { child: ChildProcess; port: number },
  bare: { child: ChildProcess; port: number },
  call: Call,
): Promise<{ p90: number; cpuSide: number; cpuBare: number }> {
  await drive(bare.port, call, 1, []);
  await drive(sidecar.port, call, 1, []);
  const lat = { side: [] as Latency[], bare: [] as Latency[] };
  const cpu = { side: [] as number[], bare: [] as number[] };
  const calls = { side: 0, bare: 0 };
  let errors = 0;
  const slice = SECONDS / ROUNDS;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [side, target] of [
      ["bare", bare],
      ["side", sidecar],
    ] as const) {
      const latencies: number[] = [];
      const c0 = await ask(target.child, "cpu");
      errors += await drive(target.port, call, slice, latencies);
      cpu[side].push(((await ask(target.child, "cpu")) - c0) / Math.max(1, latencies.length));
      lat[side].push(latency(latencies));
      calls[side] += latencies.length;
    }
  }
  const side = medianLatency(lat.side);
  const base = medianLatency(lat.bare);
  const f = (n: number) => n.toFixed(3).padStart(7);
  const row = (label: string, l: Latency, n: number) =>
    `  ${label.padEnd(9)} ${f(l.p50)}  ${f(l.p90)}  ${f(l.p99)}  ${String(n).padStart(6)}`;
  console.log(
    `\n${name}: ${RATE} req/s, ${STREAMS} streams, 1 KB, ${ROUNDS} x ${slice}s each, median of the rounds`,
  );
  console.log(`  ${"".padEnd(9)}  p50 ms   p90 ms   p99 ms   calls`);
  console.log(row("bare", base, calls.bare));
  console.log(row("sidecar", side, calls.side));
  const added = (p: keyof Latency) => side[p] - base[p];
  console.log(
    `  ${"added".padEnd(9)} ${f(added("p50"))}  ${f(added("p90"))}  ${f(added("p99"))}  errors ${errors}`,
  );
  const perSide = median(cpu.side);
  const perBare = median(cpu.bare);
  console.log(
    `  CPU per request: sidecar ${perSide.toFixed(0)} µs, bare server ${perBare.toFixed(0)} µs, ratio ${(perSide / perBare).toFixed(2)}`,
  );
  return { p90: added("p90"), cpuSide: perSide, cpuBare: perBare };
}

try {
  if (!FROM_SOURCE) build();
  console.log(
    `outrig gRPC API benchmark (${FROM_SOURCE ? "TypeScript source" : "built JavaScript"}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const app = await spawn("app");
  const bare = await spawn("bare");
  const sidecar = await spawn("sidecar", String(app.port));
  const rssIdle = await ask(sidecar.child, "rss");
  const save = unary("SaveState", {
    storeName: "statestore",
    states: [{ key: "bench", value: PAYLOAD }],
  });
  await save(
    new (daprProtos().dapr.dapr.proto.runtime.v1.Dapr)(
      `127.0.0.1:${sidecar.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client,
  );
  await drive(bare.port, save, 0.01, []);
  const get = await compare(
    "state get",
    sidecar,
    bare,
    unary("GetState", { storeName: "statestore", key: "bench" }),
  );
  const rssAtRate = await ask(sidecar.child, "rss");
  const saved = await compare("state save", sidecar, bare, save);
  const invoke = await compare(
    "service invocation (InvokeService to an HTTP echo app; bare: the server echoes)",
    sidecar,
    bare,
    unary("InvokeService", {
      id: "bench",
      message: {
        method: "echo",
        data: { type_url: "", value: PAYLOAD },
        contentType: "application/json",
        httpExtension: { verb: "POST" },
      },
    }),
  );
  const rssAfter = await ask(sidecar.child, "rss");
  const rssBare = await ask(bare.child, "rss");
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    `\nRSS: sidecar idle ${mb(rssIdle)} MB, after state get at ${RATE} req/s ${mb(rssAtRate)} MB, after all ${mb(rssAfter)} MB; bare gRPC server ${mb(rssBare)} MB`,
  );
  console.log("\nsummary against the targets");
  console.log(`  added p90 state get   ${get.p90.toFixed(3)} ms (target <= 0.7)`);
  console.log(`  added p90 state save  ${saved.p90.toFixed(3)} ms`);
  console.log(`  added p90 invocation  ${invoke.p90.toFixed(3)} ms`);
  console.log(
    `  CPU per request       state get ${(get.cpuSide / get.cpuBare).toFixed(2)}x the bare server (target <= 1.5x); save ${(saved.cpuSide / saved.cpuBare).toFixed(2)}x; invocation ${(invoke.cpuSide / invoke.cpuBare).toFixed(2)}x`,
  );
} finally {
  for (const c of children) c.kill();
}
