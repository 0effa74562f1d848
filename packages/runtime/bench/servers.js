// Child process for the benchmark: one server per process, so the load generator, the sidecar
// and the app do not share an event loop. Modes: bare | app | proxy | sidecar [off|traced] | ready5.
// Prints {"port": N} (or the ready figures) as one JSON line; answers "rss" and "cpu" over IPC.
// Plain JavaScript on purpose: a .ts child would load Node's TypeScript stripper (~17 MB RSS)
// into every measured process.
import { createServer } from "node:http";

/** The sidecar from the built package (as users run it), or from source with BENCH_SOURCE=1. */
async function runtime() {
  const { startSidecar } = await import(
    process.env.BENCH_SOURCE ? "../src/index.ts" : "@outrig/runtime"
  );
  const { silentLogger } = await import("@outrig/core");
  return { startSidecar, silentLogger };
}

const [mode, appPortArg] = process.argv.slice(2);

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

function report(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

process.on("message", (m) => {
  if (m === "rss") process.send?.({ rss: process.memoryUsage().rss });
  if (m === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  }
  if (m === "exit") process.exit(0);
});

const STATE_PREFIX = "/v1.0/state/statestore";

/** The `traced` sidecar's Configuration: every request sampled, spans into the span buffer. */
const TRACING = `---
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
`;

if (mode === "bare") {
  // The baseline: a plain Node HTTP server answering the same routes from a Map.
  const map = new Map();
  let version = 0;
  const server = createServer(async (req, res) => {
    const url = req.url ?? "";
    if (req.method === "GET" && url.startsWith(`${STATE_PREFIX}/`)) {
      const item = map.get(url.slice(STATE_PREFIX.length + 1).split("?")[0]);
      if (!item) {
        res.writeHead(204);
        res.end();
        return;
      }
      res.writeHead(200, {
        "content-type": "application/json",
        etag: String(item.etag),
        "content-length": Buffer.byteLength(item.value),
      });
      res.end(item.value);
      return;
    }
    if (req.method === "POST" && url.startsWith(STATE_PREFIX)) {
      const items = JSON.parse((await readBody(req)).toString());
      for (const i of items) map.set(i.key, { value: JSON.stringify(i.value), etag: ++version });
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(0, "127.0.0.1", () => report({ port: server.address().port }));
} else if (mode === "app") {
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
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
  server.listen(0, "127.0.0.1", () => report({ port: server.address().port }));
} else if (mode === "proxy") {
  // The least a Node proxy can do: buffer, forward over a keep-alive agent, answer.
  const { Agent, request } = await import("node:http");
  const agent = new Agent({ keepAlive: true, maxSockets: 128, noDelay: true });
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? "/").replace(/^\/v1\.0\/invoke\/[^/]+\/method/, "");
    const headers = {
      "content-type": req.headers["content-type"] ?? "",
      "content-length": body.length,
    };
    const up = request(
      { host: "127.0.0.1", port: Number(appPortArg), method: req.method, path, headers, agent },
      async (answer) => {
        const out = await readBody(answer);
        res.writeHead(answer.statusCode ?? 502, {
          "content-type": answer.headers["content-type"] ?? "",
          "content-length": out.length,
        });
        res.end(out);
      },
    );
    up.end(body);
  });
  server.listen(0, "127.0.0.1", () => report({ port: server.address().port }));
} else if (mode === "sidecar") {
  const { startSidecar, silentLogger } = await runtime();
  const sidecar = await startSidecar({
    appId: "bench",
    appPort: Number(appPortArg),
    httpPort: 0,
    // Metrics are on by default (as in daprd); `off` measures the sidecar without them, `traced`
    // with tracing too (samplingRate "1", spans kept in the span buffer, no exporter).
    enableMetrics: process.argv[4] !== "off",
    logger: silentLogger,
    resources:
      component("statestore", "state.in-memory") +
      component("pubsub", "pubsub.in-memory") +
      (process.argv[4] === "traced" ? TRACING : ""),
  });
  await sidecar.ready();
  report({ port: sidecar.httpPort });
} else if (mode === "ready5") {
  const { startSidecar, silentLogger } = await runtime();
  const began = performance.now();
  const sidecar = await startSidecar({
    appId: "bench",
    appPort: Number(appPortArg),
    httpPort: 0,
    logger: silentLogger,
    resources:
      component("statestore", "state.in-memory") +
      component("cache", "state.in-memory") +
      component("pubsub", "pubsub.in-memory") +
      component("events", "pubsub.in-memory") +
      component("env", "secretstores.local.env"),
  });
  const listening = performance.now();
  await sidecar.ready();
  const ready = performance.now();
  report({
    components: sidecar.runtime.components.length,
    fromProcessStartMs: ready,
    fromStartSidecarMs: ready - began,
    listeningMs: listening - began,
  });
  await sidecar.stop();
  process.exit(0);
}

function component(name, type) {
  return `---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: v1
`;
}
