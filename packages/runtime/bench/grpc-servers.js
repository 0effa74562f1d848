// Child process of grpc.bench.ts, one server per process. Modes:
//   bare     a bare @grpc/grpc-js server answering Dapr's GetState/SaveState from a Map and
//            InvokeService by echoing (the baseline)
//   app      an HTTP echo app (the invocation target behind the sidecar)
//   sidecar  the sidecar (built package, or source with BENCH_SOURCE=1) in front of `app`
// Prints {"port": N} as one JSON line; answers "rss" and "cpu" over IPC. Plain JavaScript, so
// no TypeScript stripper is loaded into a measured process.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";

const [mode, appPortArg] = process.argv.slice(2);
const report = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
process.on("message", (m) => {
  if (m === "rss") process.send?.({ rss: process.memoryUsage().rss });
  if (m === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
});

if (mode === "bare") {
  const require = createRequire(import.meta.url);
  const definition = loader.loadSync("dapr/proto/runtime/v1/dapr.proto", {
    includeDirs: [join(dirname(require.resolve("@dapr/dapr/package.json")), "proto")],
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const service = grpc.loadPackageDefinition(definition).dapr.proto.runtime.v1.Dapr.service;
  const map = new Map();
  let version = 0;
  const server = new grpc.Server();
  server.addService(service, {
    GetState: (call, callback) => {
      const item = map.get(call.request.key);
      callback(null, item ? { data: item.value, etag: String(item.etag) } : {});
    },
    SaveState: (call, callback) => {
      for (const s of call.request.states) map.set(s.key, { value: s.value, etag: ++version });
      callback(null, {});
    },
    InvokeService: (call, callback) =>
      callback(null, {
        data: call.request.message.data,
        contentType: call.request.message.contentType,
      }),
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    report({ port });
  });
} else if (mode === "app") {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url === "/dapr/subscribe") {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, {
        "content-type": req.headers["content-type"] ?? "application/octet-stream",
        "content-length": body.length,
      });
      res.end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => report({ port: server.address().port }));
} else if (mode === "sidecar") {
  const { startSidecar } = await import(
    process.env.BENCH_SOURCE ? "../src/index.ts" : "@outrig/runtime"
  );
  const { silentLogger } = await import("@outrig/core");
  const sidecar = await startSidecar({
    appId: "bench",
    appPort: Number(appPortArg),
    httpPort: 0,
    grpcPort: 0,
    logger: silentLogger,
    resources: `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
`,
  });
  await sidecar.ready();
  report({ port: sidecar.grpcPort });
}
