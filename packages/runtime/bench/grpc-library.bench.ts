// Library choice for the gRPC API: server CPU per unary call of @grpc/grpc-js (+ proto-loader)
// against @connectrpc/connect-node (+ @bufbuild/protobuf), same Dapr GetState call, same 1 KB
// payload, same client (@grpc/grpc-js, as the @dapr/dapr SDK uses), same run, alternating rounds.
// Run: pnpm --filter @outrig/runtime bench:grpc-library   (BENCH_CALLS, default 20000 per round)
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { median } from "@outrig/tools/bench";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const protoRoot = join(dirname(require.resolve("@dapr/dapr/package.json")), "proto");
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const CONCURRENCY = 16;
const ROUNDS = 3;

const definition = loader.loadSync("dapr/proto/runtime/v1/dapr.proto", {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
// biome-ignore lint/suspicious/noExplicitAny: the loaded package definition is untyped here
const Dapr = (grpc.loadPackageDefinition(definition) as any).dapr.proto.runtime.v1.Dapr;

async function start(mode: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(here, "grpc-library-server.js"), [mode], {
    execArgv: ["--no-warnings"],
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function cpu(child: ChildProcess): Promise<number> {
  child.send("cpu");
  const [msg] = (await once(child, "message")) as [{ cpu: number }];
  return msg.cpu;
}

async function drive(port: number, calls: number): Promise<void> {
  const client = new Dapr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let left = calls;
  const worker = async (): Promise<void> => {
    while (left-- > 0) {
      await new Promise<void>((resolve, reject) =>
        client.getState(
          { storeName: "s", key: "k" },
          (error: Error | null, reply: { data: Buffer }) =>
            error
              ? reject(error)
              : reply.data.length === 1024
                ? resolve()
                : reject(new Error("bad reply")),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  client.close();
}

const servers = { "grpc-js": await start("grpc-js"), connect: await start("connect") };
const perCall: Record<string, number[]> = { "grpc-js": [], connect: [] };
for (const s of Object.values(servers)) await drive(s.port, 2000); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, s] of Object.entries(servers)) {
    const before = await cpu(s.child);
    await drive(s.port, CALLS);
    perCall[name]!.push((await cpu(s.child)) - before);
  }
}
const grpcJs = median(perCall["grpc-js"]!) / CALLS;
const connect = median(perCall.connect!) / CALLS;
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}; ${CALLS} calls x ${ROUNDS} rounds, ${CONCURRENCY} concurrent`,
);
console.log(
  `server CPU per unary GetState (1 KB): @grpc/grpc-js ${grpcJs.toFixed(1)} µs, connect-node ${connect.toFixed(1)} µs, ratio connect/grpc-js ${(connect / grpcJs).toFixed(2)}`,
);
for (const s of Object.values(servers)) s.child.kill();
