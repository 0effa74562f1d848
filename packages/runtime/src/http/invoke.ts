import type { IncomingMessage, ServerResponse } from "node:http";
import { isApiError } from "../api/errors.ts";
import {
  invocationHeaders,
  invocationTimeoutMs,
  invokeError,
  resolveInvokeTarget,
  runInvocation,
} from "../api/invoke.ts";
import { runWithPolicy } from "../resiliency/policies.ts";
import type { ApiContext, Handler } from "./context.ts";
import { invokeGrpcAppOverHttp } from "./invoke-grpc-app.ts";
import { readBody, sendError } from "./io.ts";
import { BodyTooLargeError, bodyLimiter } from "./limits.ts";

export { closeRemotePools, DEFAULT_INVOCATION_TIMEOUT_MS } from "../api/invoke.ts";

/** Bodies up to this size with a known length are buffered, so each side is one write. */
const BUFFER_LIMIT = 64 * 1024;

/** Headers that describe one connection, never forwarded. */
export const HOP_BY_HOP = new Set([
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
  const bare = decodeURIComponent(appId).split(".")[0] as string;
  const policy = ctx.invocation?.appPolicy?.(bare);
  /** Sends one attempt and waits for the answer's head; `body` is the buffered request, if any. */
  const send = async (body: Buffer | undefined): Promise<IncomingMessage> => {
    // A caller that went away while waiting for app-max-concurrency is not called for.
    if (res.destroyed) throw new CallerGone();
    const path = `${found.basePath ?? ""}/${method.startsWith("/") ? method.slice(1) : method}${query}`;
    const { req: upstream, response } = found.pool.open(verb, path, headers, timeoutMs);
    // The upstream call is cancelled as soon as the caller goes away before its answer is out,
    // so abandoned calls never hold one of the pool's connections.
    const cancel = (): void => {
      if (!res.writableFinished) upstream.destroy(new CallerGone());
    };
    res.once("close", cancel);
    upstream.once("close", () => res.off("close", cancel));
    if (deadlineMs !== undefined) {
      const deadline = setTimeout(
        () => upstream.destroy(new Error(`timed out after ${deadlineMs}ms (resiliency timeout)`)),
        deadlineMs,
      );
      upstream.once("close", () => clearTimeout(deadline));
      res.once("close", () => clearTimeout(deadline));
    }
    const requestLength = Number(req.headers["content-length"]);
    if (!hasBody) upstream.end();
    else if (body) upstream.end(body);
    else if (requestLength <= BUFFER_LIMIT) {
      // A small body with a known length goes out with the headers in one write.
      upstream.end(await readBody(req));
    } else {
      const limiter = bodyLimiter(req);
      req.pipe(limiter).pipe(upstream);
      limiter.once("error", (e) => upstream.destroy(e));
      req.once("error", (e) => upstream.destroy(e));
    }
    return response;
  };
  const forward = async (answer: IncomingMessage): Promise<void> => {
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
  const call = policy
    ? async (): Promise<void> => {
        // Retried attempts resend the same bytes, so the body is read once (within the
        // request's max-body-size, like every other buffered body).
        const body = hasBody ? await readBody(req) : undefined;
        let answer: IncomingMessage | undefined;
        try {
          answer = await runWithPolicy(
            policy,
            `invocation of ${bare}/${method}`,
            async () => {
              // The error answer a retry replaces is drained, so its connection is reused.
              answer?.resume();
              const a = await send(body);
              answer = a;
              if ((a.statusCode ?? 500) >= 400) throw new ErrorAnswer(a.statusCode ?? 500, a);
              return a;
            },
            {
              retry: true,
              retryable: (e) =>
                !(e instanceof CallerGone) &&
                !(e instanceof BodyTooLargeError) &&
                !(e instanceof ErrorAnswer && policy.retry?.httpStatusCodes?.(e.status) === false),
            },
          );
        } catch (error) {
          // The app's own error answer, once retries are over, goes back to the caller as is.
          if (!(error instanceof ErrorAnswer)) throw error;
          answer = error.answer;
        }
        await forward(answer);
      }
    : async (): Promise<void> => forward(await send(undefined));
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

/** The caller's connection closed: nothing to answer, nothing to retry. */
class CallerGone extends Error {
  constructor() {
    super("the caller went away");
  }
}

/**
 * An app's error status (400 and above), thrown so the policy retries it and a breaker counts
 * it; the answer is kept unread so the last one can still be forwarded.
 */
class ErrorAnswer extends Error {
  readonly status: number;
  readonly answer: IncomingMessage;
  constructor(status: number, answer: IncomingMessage) {
    super(`the app answered ${status}`);
    this.status = status;
    this.answer = answer;
  }
}

export const invokeRoute: Handler = (ctx, req, res, params) =>
  invoke(ctx, req, res, params.appId as string, params["*"] ?? "");
