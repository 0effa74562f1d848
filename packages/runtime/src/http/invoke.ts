import type { IncomingMessage, ServerResponse } from "node:http";
import { newTraceparent } from "../cloudevents.ts";
import { HttpTarget } from "../http-client.ts";
import type { ApiContext, Handler } from "./context.ts";
import { apiError } from "./errors.ts";
import { externalTarget } from "./external.ts";
import { readBody, sendError } from "./io.ts";
import { BodyTooLargeError, bodyLimiter } from "./limits.ts";

/** Documented default of `invocationTimeoutSeconds`. */
export const DEFAULT_INVOCATION_TIMEOUT_MS = 60_000;

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

const remoteTargets = new Map<string, HttpTarget>();

function targetFor(host: string, port: number): HttpTarget {
  const key = `${host}:${port}`;
  let target = remoteTargets.get(key);
  if (!target) {
    target = new HttpTarget(host, port, 64);
    remoteTargets.set(key, target);
  }
  return target;
}

/** Closes the connections opened to other apps (called when the last sidecar stops). */
export async function closeRemotePools(): Promise<void> {
  for (const t of remoteTargets.values()) t.close();
  remoteTargets.clear();
}

interface Target {
  pool: HttpTarget;
  local: boolean;
  basePath?: string;
  headers?: Record<string, string>;
}

async function target(
  ctx: ApiContext,
  appId: string,
): Promise<Target | string | { refused: string }> {
  const decoded = decodeURIComponent(appId);
  const external = externalTarget(
    decoded,
    ctx.invocation?.endpoints ?? [],
    ctx.invocation?.allowedHosts ?? [],
  );
  if (typeof external === "string") return { refused: external };
  if (external) return { ...external, local: false };
  const bare = decoded.split(".")[0] as string;
  if (decoded === ctx.appId || bare === ctx.appId) {
    if (!ctx.app) return "app channel is not initialized";
    return { pool: ctx.app.target, local: true };
  }
  const address = await ctx.resolveApp?.(decoded).catch(() => undefined);
  if (!address) return `couldn't find service: ${decoded}`;
  return { pool: targetFor(address.host, address.port), local: false };
}

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
  const found = await target(ctx, appId);
  if (typeof found === "object" && "refused" in found) {
    return sendError(res, apiError(403, "ERR_DIRECT_INVOKE", found.refused));
  }
  if (typeof found === "string") {
    return sendError(
      res,
      apiError(500, "ERR_DIRECT_INVOKE", `failed to invoke, id: ${appId}, err: ${found}`),
    );
  }
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const query = q >= 0 && q < url.length - 1 ? url.slice(q) : "";
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  }
  headers["dapr-caller-app-id"] = ctx.appId;
  headers["dapr-callee-app-id"] = appId;
  headers.traceparent ??= newTraceparent();
  if (found.local && ctx.app?.token) headers["dapr-api-token"] = ctx.app.token;
  if (found.headers) Object.assign(headers, found.headers);
  const verb = req.method ?? "GET";
  const hasBody =
    verb !== "GET" &&
    verb !== "HEAD" &&
    (req.headers["content-length"] !== "0" || req.headers["transfer-encoding"] !== undefined);
  const timeoutMs = ctx.invocation?.timeoutMs ?? DEFAULT_INVOCATION_TIMEOUT_MS;
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
      res.writeHead(answer.statusCode ?? 502, out);
      res.end(body);
      return;
    }
    // Unknown length (chunked, SSE) or large: streamed through as it arrives.
    res.writeHead(answer.statusCode ?? 502, out);
    res.flushHeaders();
    await new Promise<void>((resolve, reject) => {
      answer.once("error", reject);
      res.once("close", resolve);
      answer.pipe(res);
    });
  };
  try {
    await (found.local && ctx.app ? ctx.app.limit.run(call) : call());
  } catch (error) {
    if (error instanceof BodyTooLargeError) return;
    if (res.headersSent) {
      res.destroy(error as Error);
      return;
    }
    sendError(
      res,
      apiError(
        500,
        "ERR_DIRECT_INVOKE",
        `failed to invoke, id: ${appId}, err: ${(error as Error).message}`,
      ),
    );
  }
}

export const invokeRoute: Handler = (ctx, req, res, params) =>
  invoke(ctx, req, res, params.appId as string, params["*"] ?? "");
