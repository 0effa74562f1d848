import { HttpTarget } from "../app/http-client.ts";
import { newTraceparent } from "../messaging/cloudevent.ts";
import type { ApiContext, AppAddress } from "./context.ts";
import { type ApiError, apiError } from "./errors.ts";
import { externalTarget } from "./external.ts";

/** Documented default of `invocationTimeoutSeconds`. */
export const DEFAULT_INVOCATION_TIMEOUT_MS = 60_000;

/** Where an invocation goes: the local app's channel, another app's server or an external host. */
export interface InvokeTarget {
  pool: HttpTarget;
  /** The local app: its concurrency limit and APP_API_TOKEN apply. */
  local: boolean;
  /** An external endpoint's base path, prepended to the method. */
  basePath?: string;
  /** An HTTPEndpoint's `spec.headers`. */
  headers?: Record<string, string>;
  /** How the target is served: a gRPC app is called through its AppCallback. */
  protocol: "http" | "grpc";
  /** Another app's address as the registry gave it (absent for the local app and externals). */
  address?: AppAddress;
}

/** How long an invocation may stay silent before it fails. */
export function invocationTimeoutMs(ctx: ApiContext): number {
  return ctx.invocation?.timeoutMs ?? DEFAULT_INVOCATION_TIMEOUT_MS;
}

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

/**
 * Resolves `appId` (this app, another app through the registry, an HTTPEndpoint or an allowed
 * URL) to the target of a call, or throws ERR_DIRECT_INVOKE naming why there is none.
 */
export async function resolveInvokeTarget(ctx: ApiContext, appId: string): Promise<InvokeTarget> {
  const decoded = decodeURIComponent(appId);
  const external = externalTarget(
    decoded,
    ctx.invocation?.endpoints ?? [],
    ctx.invocation?.allowedHosts ?? [],
  );
  if (typeof external === "string") throw apiError("DIRECT_INVOKE_FORBIDDEN", { detail: external });
  if (external) return { ...external, local: false, protocol: "http" };
  const bare = decoded.split(".")[0] as string;
  if (decoded === ctx.appId || bare === ctx.appId) {
    if (!ctx.app) throw invokeError(appId, "app channel is not initialized");
    return { pool: ctx.app.target, local: true, protocol: ctx.grpcApp ? "grpc" : "http" };
  }
  const address = await ctx.resolveApp?.(decoded).catch(() => undefined);
  if (!address) throw invokeError(appId, `couldn't find service: ${decoded}`);
  return {
    pool: targetFor(address.host, address.port),
    local: false,
    protocol: address.protocol ?? "http",
    address,
  };
}

/**
 * How long a call may take: the invocation timeout, shortened by a Resiliency app-target
 * timeout and by the caller's own deadline (epoch ms) when they come sooner.
 */
export function invocationBudgetMs(
  ctx: ApiContext,
  appId: string,
  callerDeadline?: number,
): number {
  const bare = decodeURIComponent(appId).split(".")[0] as string;
  let ms = invocationTimeoutMs(ctx);
  const resiliency = ctx.invocation?.appTimeoutsMs?.get(bare);
  if (resiliency !== undefined) ms = Math.min(ms, resiliency);
  if (callerDeadline !== undefined && Number.isFinite(callerDeadline))
    ms = Math.min(ms, Math.max(0, callerDeadline - Date.now()));
  return ms;
}

/** Runs a call to `target` under the local app's concurrency limit when it is the local app. */
export function runInvocation<T>(
  ctx: ApiContext,
  target: InvokeTarget,
  call: () => Promise<T>,
): Promise<T> {
  return target.local && ctx.app ? ctx.app.limit.run(call) : call();
}

/**
 * The metadata the callee gets on every invocation, beside the caller's own: caller and callee
 * ids, a traceparent (the caller's, else a new one) and, for the local app, APP_API_TOKEN.
 */
export function invocationHeaders(
  ctx: ApiContext,
  target: InvokeTarget,
  calleeAppId: string,
  traceparent: string | undefined,
): Record<string, string> {
  return {
    "dapr-caller-app-id": ctx.appId,
    "dapr-callee-app-id": calleeAppId,
    traceparent: traceparent ?? newTraceparent(),
    ...(target.local && ctx.app?.token ? { "dapr-api-token": ctx.app.token } : {}),
    ...target.headers,
  };
}

/** The failure of an invocation to `appId`. */
export function invokeError(appId: string, error: unknown): ApiError {
  const detail = error instanceof Error ? error.message : String(error);
  return apiError("DIRECT_INVOKE", { appId, error: detail });
}

/** The invocation fallback had no app id (neither in the path nor in `dapr-app-id`). */
export function noAppIdError(): ApiError {
  return apiError("DIRECT_INVOKE_NO_APP_ID");
}
