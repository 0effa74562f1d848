import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { answeredErrorCode } from "../http/io.ts";
import type { SidecarMetrics } from "./sidecar-metrics.ts";

const ROUTE = Symbol("outrig.metrics.route");

/** A request the API router has matched: its route template rides on the request itself. */
type RoutedRequest = IncomingMessage & { [ROUTE]?: string };

/** The HTTP API's server metrics, as the sidecar's request handler and router call them. */
export interface HttpServerObserver {
  /** The router matched `route` for `req` (the `path` label, unless a raw path is wanted). */
  onRouted(req: IncomingMessage, route: string): void;
  /**
   * Records `req`'s metrics as its response closes, if it finished (a caller that went away
   * first is not counted, as daprd's middleware counts answers); `began` is performance.now().
   */
  closed(req: IncomingMessage, res: ServerResponse, began: number): void;
}

export function httpServerObserver(
  metrics: SidecarMetrics,
  settings: { pathMatching: boolean; increasedCardinality: boolean },
): HttpServerObserver {
  const { pathMatching, increasedCardinality } = settings;
  const rawPath = pathMatching || increasedCardinality;
  return {
    onRouted(req, route) {
      // A property, not a WeakMap: a request lives as long as its response, and setting one is
      // a fraction of a WeakMap's cost on every request.
      (req as RoutedRequest)[ROUTE] = route;
    },
    closed(req, res, began) {
      if (!res.writableFinished) return;
      const raw = rawPath ? (req.url ?? "").split("?")[0] || "" : "";
      const path =
        (pathMatching ? metrics.pathLabel(raw) : undefined) ??
        (increasedCardinality ? raw : ((req as RoutedRequest)[ROUTE] ?? ""));
      if (metrics.recordsErrorCodes) {
        const code = answeredErrorCode(res);
        if (code) metrics.errorCode(code);
      }
      metrics.httpServer(
        req.method ?? "",
        path,
        res.statusCode,
        performance.now() - began,
        Number(req.headers["content-length"] ?? 0) || 0,
        Number(res.getHeader("content-length") ?? 0) || 0,
      );
    },
  };
}
