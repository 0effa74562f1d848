import type { IncomingMessage, ServerResponse } from "node:http";
import { isApiError } from "../api/errors.ts";
import {
  invocationHeaders,
  invocationTimeoutMs,
  invokeError,
  resolveInvokeTarget,
  runInvocation,
} from "../api/invoke.ts";
import type { ApiContext, Handler } from "./context.ts";
import { invokeGrpcAppOverHttp } from "./invoke-grpc-app.ts";
import { readBody, sendError } from "./io.ts";
import { BodyTooLargeError, bodyLimiter } from "./limits.ts";

export { closeRemotePools, DEFAULT_INVOCATION_TIMEOUT_MS } from "../api/invoke.ts";

/** Bodies up to this size with a known length are buffered, so each side is one write. */
const BUFFER_LIMIT = 64 * 1024;

/** Headers that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "host",
  "dapr-app-id",
  "dapr-api-token",
]);

/**
 * Proxies one call to `appId`'s `method`: verb, headers, query and body go out as they came (the
 * body streamed), and status, headers and body come back unchanged, errors included.
 */
export async function invoke(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  appId: string,
  method: string,
): Promise<void> {
  const found = await resolveInvokeTarget(ctx, appId);
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const query = q >= 0 && q < url.length - 1 ? url.slice(q) : "";
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  }
  const tp = req.headers.traceparent;
  Object.assign(
    headers,
    invocationHeaders(ctx, found, appId, typeof tp === "string" ? tp : undefined),
  );
  const verb = req.method ?? "GET";
  const hasBody =
    verb !== "GET" &&
    verb !== "HEAD" &&
    (req.headers["content-length"] !== "0" || req.headers["transfer-encoding"] !== undefined);
  const timeoutMs = invocationTimeoutMs(ctx);
  const deadlineMs = ctx.invocation?.appTimeoutsMs?.get(
    decodeURIComponent(appId).split(".")[0] as string,
  );
  if (found.protocol === "grpc") {
    try {
      await invokeGrpcAppOverHttp(ctx, found, req, res, appId, method, query, headers);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return;
      sendError(res, isApiError(error) ? error : invokeError(appId, error));
    }
    return;
  }
  const call = async (): Promise<void> => {
    // A caller that went away while waiting for app-max-concurrency is not called for.
    if (res.destroyed) throw new Error("the caller went away");
    const path = `${found.basePath ?? ""}/${method.startsWith("/") ? method.slice(1) : method}${query}`;
    const { req: upstream, response } = found.pool.open(verb, path, headers, timeoutMs);
    // The upstream call is cancelled as soon as the caller goes away before its answer is out,
    // so abandoned calls never hold one of the pool's connections.
    const cancel = (): void => {
      if (!res.writableFinished) upstream.destroy(new Error("the caller went away"));
    };
    res.once("close", cancel);
    if (deadlineMs !== undefined) {
      const deadline = setTimeout(
        () => upstream.destroy(new Error(`timed out after ${deadlineMs}ms (resiliency timeout)`)),
        deadlineMs,
      );
      res.once("close", () => clearTimeout(deadline));
    }
    const requestLength = Number(req.headers["content-length"]);
    if (!hasBody) upstream.end();
    else if (requestLength <= BUFFER_LIMIT) {
      // A small body with a known length goes out with the headers in one write.
      upstream.end(await readBody(req));
    } else {
      const limiter = bodyLimiter(req);
      req.pipe(limiter).pipe(upstream);
      limiter.once("error", (e) => upstream.destroy(e));
      req.once("error", (e) => upstream.destroy(e));
    }
    const answer = await response;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    }
    if (Number(answer.headers["content-length"]) <= BUFFER_LIMIT) {
      const body = await readBody(answer);
      res.writeHead(answer.statusCode as number, out);
      res.end(body);
      return;
    }
    // Unknown length (chunked, SSE) or large: streamed through as it arrives.
    res.writeHead(answer.statusCode as number, out);
    res.flushHeaders();
    await new Promise<void>((resolve, reject) => {
      answer.once("error", reject);
      res.once("close", resolve);
      answer.pipe(res);
    });
  };
  try {
    await runInvocation(ctx, found, call);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return;
    if (res.headersSent) {
      res.destroy(error as Error);
      return;
    }
    sendError(res, invokeError(appId, error));
  }
}

export const invokeRoute: Handler = (ctx, req, res, params) =>
  invoke(ctx, req, res, params.appId as string, params["*"] ?? "");
