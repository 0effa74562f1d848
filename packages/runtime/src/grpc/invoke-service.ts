import { STATUS_CODES } from "node:http";
import type * as grpc from "@grpc/grpc-js";
import type { ApiContext } from "../api/context.ts";
import { grpcStatusOfHttp } from "../api/errors.ts";
import {
  type InvokeTarget,
  invocationBudgetMs,
  invocationHeaders,
  invocationTimeoutMs,
  invokeError,
  resolveInvokeTarget,
  runInvocation,
} from "../api/invoke.ts";
import { runWithPolicy } from "../resiliency/policies.ts";
import { AppStatusError, invokeGrpcTarget } from "./app-invoke.ts";
import type { InvokeRequest__Output } from "./generated/dapr/proto/common/v1/InvokeRequest.ts";
import type { InvokeResponse } from "./generated/dapr/proto/common/v1/InvokeResponse.ts";
import type { InvokeServiceRequest__Output } from "./generated/dapr/proto/runtime/v1/InvokeServiceRequest.ts";

/** How much of an HTTP app's error body goes into the ErrorInfo. */
const ERROR_BODY_LIMIT = 4096;

/** gRPC metadata that describes the call itself, never passed on to the callee as headers. */
const RESERVED = new Set([
  "dapr-api-token",
  "dapr-app-id",
  "content-type",
  "content-length",
  "user-agent",
  "te",
  "host",
  "connection",
]);

/** The caller's metadata that is passed on to the callee. */
function passedOn(call: grpc.ServerUnaryCall<unknown, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) {
    if (!RESERVED.has(k) && !k.startsWith("grpc-") && !k.startsWith(":") && typeof v === "string")
      headers[k] = v;
  }
  return headers;
}

/**
 * InvokeService to an app served over gRPC (local, or another app found through the registry):
 * its AppCallback.OnInvoke with the message unchanged, the caller's metadata and deadline, and
 * cancelled with the caller.
 */
async function invokeGrpcApp(
  ctx: ApiContext,
  target: InvokeTarget,
  r: InvokeServiceRequest__Output,
  message: InvokeRequest__Output,
  call: grpc.ServerUnaryCall<InvokeServiceRequest__Output, InvokeResponse>,
): Promise<InvokeResponse> {
  const headers = passedOn(call);
  Object.assign(headers, invocationHeaders(ctx, target, r.id, headers.traceparent));
  const abort = new AbortController();
  const cancel = (): void => abort.abort();
  call.once("cancelled", cancel);
  const deadline = call.getDeadline();
  try {
    return await invokeGrpcTarget(
      ctx,
      target,
      r.id,
      message,
      headers,
      invocationBudgetMs(ctx, r.id, deadline instanceof Date ? deadline.getTime() : deadline),
      abort.signal,
    );
  } finally {
    call.off("cancelled", cancel);
  }
}

/**
 * InvokeService to an app served over HTTP: the message's `http_extension` verb and query string,
 * its data as the body and content type, and the caller's metadata as headers (as daprd does);
 * the app's body comes back as the response's data. A non-2xx answer is the HTTP status's gRPC
 * status (`grpcStatusOfHttp`), as daprd answers it.
 */
export async function invokeService(
  ctx: ApiContext,
  r: InvokeServiceRequest__Output,
  call: grpc.ServerUnaryCall<InvokeServiceRequest__Output, InvokeResponse>,
): Promise<InvokeResponse> {
  const message = r.message;
  const target = await resolveInvokeTarget(ctx, r.id);
  if (target.protocol === "grpc" && message) return invokeGrpcApp(ctx, target, r, message, call);
  const headers = passedOn(call);
  const tp = headers.traceparent;
  Object.assign(headers, invocationHeaders(ctx, target, r.id, tp));
  const verb = message?.httpExtension?.verb;
  const method = typeof verb === "string" && verb !== "NONE" ? verb : "POST";
  const data = message?.data?.value ?? Buffer.alloc(0);
  if (message?.contentType) headers["content-type"] = message.contentType;
  const query = message?.httpExtension?.querystring ? `?${message.httpExtension.querystring}` : "";
  const path = `${target.basePath ?? ""}/${(message?.method ?? "").replace(/^\/+/, "")}${query}`;
  const send = async (): Promise<InvokeResponse> => {
    if (call.cancelled) throw new Error("the caller went away");
    const { req, response } = target.pool.open(
      method,
      path,
      { ...headers, "content-length": String(data.length) },
      invocationTimeoutMs(ctx),
    );
    // Cancelled with its caller, so abandoned calls never hold a pooled connection.
    const cancel = (): void => {
      req.destroy(new Error("the caller went away"));
    };
    call.once("cancelled", cancel);
    try {
      req.end(method === "GET" || method === "HEAD" ? undefined : data);
      const res = await response;
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        // As daprd: the HTTP status's gRPC status and text, with an ErrorInfo holding the code
        // and the app's body, and the status itself as `dapr-http-status`.
        const text = STATUS_CODES[status] ?? String(status);
        throw new AppStatusError(
          grpcStatusOfHttp(status),
          text,
          {
            reason: text,
            metadata: {
              "http.code": String(status),
              "http.error_message": body.toString("utf8", 0, ERROR_BODY_LIMIT),
            },
          },
          { "dapr-http-status": String(status) },
        );
      }
      const contentType = res.headers["content-type"] ?? "";
      return {
        data: { type_url: "", value: body },
        contentType,
      };
    } finally {
      call.off("cancelled", cancel);
    }
  };
  // The callee's Resiliency retry and breaker, as on the HTTP API (http/invoke.ts): an error
  // status is retried unless matching.httpStatusCodes leaves it out; the body is already whole.
  const bare = r.id.split(".")[0] as string;
  const policy = ctx.invocation?.appPolicy?.(bare);
  const attempts = policy
    ? () =>
        runWithPolicy(policy, `invocation of ${bare}/${message?.method ?? ""}`, send, {
          retry: true,
          retryable: (e) => {
            if (call.cancelled) return false;
            if (!(e instanceof AppStatusError)) return true;
            const status = Number(e.headers["dapr-http-status"]);
            return policy.retry?.httpStatusCodes?.(status) ?? status >= 400;
          },
        })
    : send;
  try {
    return await runInvocation(ctx, target, attempts);
  } catch (error) {
    if (error instanceof AppStatusError) throw error;
    throw invokeError(r.id, error);
  }
}
