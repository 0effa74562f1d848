import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` in Prometheus' text format on `host:port` (0 = a free port), as daprd's
 * `--metrics-port`. Any other path is 404; the server reads no request bodies.
 */
export async function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const server: Server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000 },
    (req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "GET" || (path !== "/metrics" && path !== "/")) {
        res
          .writeHead(404, { "content-type": "text/plain" })
          .end("not found: the metrics are at GET /metrics\n");
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (error: unknown) =>
          res
            .writeHead(500, { "content-type": "text/plain" })
            .end(String((error as Error).message)),
      );
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
