import type { ApiContext } from "./context.ts";
import { apiError } from "./errors.ts";

/** The sidecar's metadata document (`GET /v1.0/metadata`, gRPC GetMetadata). */
export function getMetadata(ctx: ApiContext): Record<string, unknown> {
  return ctx.metadata();
}

/** Sets one `extended` metadata attribute. */
export function setMetadata(ctx: ApiContext, request: { key: string; value: string }): void {
  ctx.extended[request.key] = request.value;
}

/** Stops the sidecar after the caller has had its answer. */
export function shutdown(ctx: ApiContext): void {
  setImmediate(ctx.shutdown);
}

/** Throws unless the sidecar (and its app channel) is ready; `appId`, when given, must be ours. */
export function checkHealth(ctx: ApiContext, appId?: string): void {
  if (appId !== undefined && appId !== ctx.appId) throw apiError("HEALTH_APPID_NOT_MATCH");
  if (!ctx.health.ready) throw apiError("HEALTH_NOT_READY");
}

/** Throws unless the components and the API are ready (before the app is found). */
export function checkOutboundHealth(ctx: ApiContext): void {
  if (!ctx.health.outbound) throw apiError("OUTBOUND_HEALTH_NOT_READY");
}
