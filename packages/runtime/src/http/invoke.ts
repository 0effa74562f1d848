import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Pool } from "undici";
import { formatHost } from "../app-channel.ts";
import { newTraceparent } from "../cloudevents.ts";
import type { ApiContext, Handler } from "./context.ts";
import { apiError } from "./errors.ts";
import { sendError } from "./io.ts";

/** Headers that describe one connection, never forwarded (and undici refuses some of them). */
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

const remotePools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = remotePools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 64 });
    remotePools.set(origin, pool);
  }
  return pool;
}

/** Closes the pools opened for other apps (called when the last sidecar stops). */
export async function closeRemotePools(): Promise<void> {
  const pools = [...remotePools.values()];
  remotePools.clear();
  await Promise.allSettled(pools.map((p) => p.close()));
}

async function target(
  ctx: ApiContext,
  appId: string,
): Promise<{ pool: Pool; local: boolean } | string> {
  const decoded = decodeURIComponent(appId);
  if (/^https?:\/\//i.test(decoded))
    return { pool: poolFor(new URL(decoded).origin), local: false };
  const bare = decoded.split(".")[0] as string;
  if (decoded === ctx.appId || bare === ctx.appId) {
    if (!ctx.app) return "app channel is not initialized";
    return { pool: ctx.app.pool, local: true };
  }
  const address = await ctx.resolveApp?.(decoded).catch(() => undefined);
  if (!address) return `couldn't find service: ${decoded}`;
  return { pool: poolFor(`http://${formatHost(address.host)}:${address.port}`), local: false };
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
  const verb = req.method ?? "GET";
  const hasBody =
    verb !== "GET" &&
    verb !== "HEAD" &&
    (req.headers["content-length"] !== "0" || req.headers["transfer-encoding"] !== undefined);
  const call = async (): Promise<void> => {
    const response = await found.pool.request({
      method: verb as "GET",
      path: `/${method.startsWith("/") ? method.slice(1) : method}${query}`,
      headers,
      body: hasBody ? req : null,
    });
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(response.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    }
    res.writeHead(response.statusCode, out);
    await pipeline(response.body, res);
  };
  try {
    await (found.local && ctx.app ? ctx.app.limit.run(call) : call());
  } catch (error) {
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
