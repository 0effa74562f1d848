import { readFile } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AppRegistry } from "../registry.ts";
import { collectSnapshot, type SnapshotOptions } from "./snapshot.ts";

/** The page's files, served as they are: no build step, no bundler. */
const PAGE_FILES: Record<string, string> = {
  "/": "index.html",
  "/dashboard.css": "dashboard.css",
  "/dashboard.js": "dashboard.js",
  "/charts.js": "charts.js",
  "/timeline.js": "timeline.js",
};

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

export interface DashboardOptions extends Partial<SnapshotOptions> {
  host: string;
  /** 0: a free port. */
  port: number;
  registry: AppRegistry;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULTS: SnapshotOptions = { timeoutMs: 1500, spanLimit: 500, traceLimit: 20 };

async function loadPage(): Promise<Map<string, { type: string; body: Buffer }>> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [path, name] of Object.entries(PAGE_FILES)) {
    const body = await readFile(new URL(`./page/${name}`, import.meta.url));
    files.set(path, { type: CONTENT_TYPES[name.split(".").pop() ?? ""] ?? "text/plain", body });
  }
  return files;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

/**
 * Serves the dashboard: the page and `GET /api/snapshot`, a JSON view of every running app that
 * the page polls. Each snapshot asks the sidecars afresh, every call bounded by `timeoutMs`, so a
 * sidecar that does not answer shows as unreachable instead of holding the page.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const page = await loadPage();
  const snapshotOptions: SnapshotOptions = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    spanLimit: options.spanLimit ?? DEFAULTS.spanLimit,
    traceLimit: options.traceLimit ?? DEFAULTS.traceLimit,
  };
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(
        res,
        405,
        "text/plain",
        `method ${req.method} not allowed: the dashboard is read-only\n`,
      );
      return;
    }
    if (path === "/api/snapshot") {
      collectSnapshot(options.registry, snapshotOptions).then(
        (snapshot) => send(res, 200, "application/json", JSON.stringify(snapshot)),
        (error: unknown) =>
          send(res, 500, "application/json", JSON.stringify({ error: (error as Error).message })),
      );
      return;
    }
    const file = page.get(path);
    if (file) send(res, 200, file.type, file.body);
    else send(res, 404, "text/plain", `not found: ${path}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
