import type { ApiContext } from "../api/context.ts";
import { isApiError } from "../api/errors.ts";
import { type InvokeTarget, invokeError, runInvocation } from "../api/invoke.ts";
import { runWithPolicy } from "../resiliency/policies.ts";
import { GrpcAppChannel } from "./app-channel.ts";
import type { InvokeRequest } from "./generated/dapr/proto/common/v1/InvokeRequest.ts";
import type { InvokeResponse__Output } from "./generated/dapr/proto/common/v1/InvokeResponse.ts";

/**
 * A gRPC status an app answered. It goes back to a gRPC caller as it is and to an HTTP caller as
 * the status's HTTP equivalent, as daprd passes an app's own status through.
 */
export class AppStatusError extends Error {
  readonly code: number;
  readonly details: string;
  /** A google.rpc.ErrorInfo to send with it (domain dapr.io). */
  readonly info: { reason: string; metadata: Record<string, string> } | undefined;
  /** Metadata sent with the status (e.g. `dapr-http-status`). */
  readonly headers: Record<string, string>;
  constructor(
    code: number,
    details: string,
    info?: { reason: string; metadata: Record<string, string> },
    headers: Record<string, string> = {},
  ) {
    super(details);
    this.name = "AppStatusError";
    this.code = code;
    this.details = details;
    this.info = info;
    this.headers = headers;
  }
}

const remoteApps = new Map<string, GrpcAppChannel>();

/** The AppCallback channel of a gRPC target: the local app's, or one kept per remote address. */
function channelOf(ctx: ApiContext, target: InvokeTarget): GrpcAppChannel | undefined {
  if (target.local) return ctx.grpcApp;
  const address = target.address;
  if (!address) return undefined;
  const key = `${address.host}:${address.port}`;
  let channel = remoteApps.get(key);
  if (!channel) {
    // Another app is called directly, as HTTP invocation does; its APP_API_TOKEN is its own
    // sidecar's to send, not ours.
    channel = new GrpcAppChannel(address.host, address.port, undefined);
    remoteApps.set(key, channel);
  }
  return channel;
}

/** Closes the channels opened to other gRPC apps (called when the last sidecar stops). */
export function closeRemoteGrpcApps(): void {
  for (const channel of remoteApps.values()) channel.close();
  remoteApps.clear();
}

/**
 * AppCallback.OnInvoke on a gRPC target (local under app-max-concurrency, or another app), with
 * `headers` as metadata, failing after `budgetMs` and cancelled by `signal`. The callee's
 * Resiliency retry and breaker apply as to an HTTP app (http/invoke.ts): a failure is retried
 * unless `matching.gRPCStatusCodes` leaves its code out. The app's own failure status comes back
 * as an AppStatusError; a call that could not be made as the invocation's ApiError.
 */
export async function invokeGrpcTarget(
  ctx: ApiContext,
  target: InvokeTarget,
  appId: string,
  message: InvokeRequest,
  headers: Record<string, string>,
  budgetMs: number,
  signal: AbortSignal,
): Promise<InvokeResponse__Output> {
  const channel = channelOf(ctx, target);
  if (!channel) throw invokeError(appId, "app channel is not initialized");
  // The channel sends APP_API_TOKEN itself, as metadata of every call to the app.
  const { "dapr-api-token": _token, ...rest } = headers;
  const once = async (): Promise<InvokeResponse__Output> => {
    try {
      return await runInvocation(ctx, target, () => {
        if (signal.aborted) throw new Error("the caller went away");
        return channel.invoke(message as never, rest, budgetMs, signal);
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === "number" && code > 0) {
        throw new AppStatusError(code, (error as { details?: string }).details ?? String(error));
      }
      throw invokeError(appId, error);
    }
  };
  const bare = appId.split(".")[0] as string;
  const policy = ctx.invocation?.appPolicy?.(bare);
  if (!policy) return once();
  try {
    return await runWithPolicy(policy, `invocation of ${bare}/${message.method ?? ""}`, once, {
      retry: true,
      retryable: (e) =>
        !signal.aborted &&
        !(e instanceof AppStatusError && policy.retry?.grpcStatusCodes?.(e.code) === false),
    });
  } catch (error) {
    // An open breaker's refusal fails the invocation as any call that could not be made.
    if (error instanceof AppStatusError || isApiError(error)) throw error;
    throw invokeError(appId, error);
  }
}
