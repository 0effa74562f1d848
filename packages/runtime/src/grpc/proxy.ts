import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type * as grpc from "@grpc/grpc-js";
import type { ApiContext } from "../api/context.ts";
import { apiError, GrpcStatus } from "../api/errors.ts";
import { invocationTimeoutMs, invokeError } from "../api/invoke.ts";
import { tokenMatches } from "../http/guard.ts";
import type { Drain } from "../lifecycle/drain.ts";
import { startProxySpan } from "../tracing/grpc-tracing.ts";
import type { SidecarTracing } from "../tracing/sidecar-tracing.ts";
import { toServiceError } from "./errors.ts";

/** The metadata that names the app a proxied call is for (Dapr's gRPC proxying). */
export const APP_ID_HEADER = "dapr-app-id";

/**
 * Marks a call one sidecar forwards to another, so the second one delivers it to its own app or
 * refuses it, and never forwards it again (a stale registry could otherwise make a loop).
 */
const FORWARDED_HEADER = "outrig-forwarded-by";

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

export interface ProxyOptions {
  /** The sidecar's API token: a proxied call must carry it as `dapr-api-token`, as every call. */
  apiToken?: string | undefined;
  drain: Drain;
  /** Traces each proxied call (startProxySpan); absent while tracing is off. */
  tracing?: SidecarTracing | undefined;
}

/** Called with the gRPC status the caller is answered with, once known. */
type OnStatus = (code: number, details?: string) => void;

function statusOf(headers: IncomingHttpHeaders | undefined): { code: number; details?: string } {
  const code = Number(headers?.["grpc-status"] ?? GrpcStatus.INTERNAL);
  const message = headers?.["grpc-message"];
  return {
    code: Number.isInteger(code) ? code : (GrpcStatus.UNKNOWN as number),
    ...(typeof message === "string" && message ? { details: decodeURIComponent(message) } : {}),
  };
}

/** One HTTP/2 connection per upstream (the local app, another sidecar), opened on first use. */
const sessions = new Map<string, ClientHttp2Session>();

function sessionTo(host: string, port: number): ClientHttp2Session {
  const authority = `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  const open = sessions.get(authority);
  if (open && !open.closed && !open.destroyed) return open;
  const session = http2.connect(authority);
  const forget = (): void => {
    if (sessions.get(authority) === session) sessions.delete(authority);
  };
  session.once("close", forget);
  session.once("goaway", forget);
  // A failed connection fails its streams (each answers the caller); the session just goes.
  session.on("error", forget);
  // An idle connection does not keep the process alive.
  session.unref();
  sessions.set(authority, session);
  return session;
}

/** Closes the connections the proxy opened (called when the last sidecar stops). */
export function closeProxySessions(): void {
  for (const session of sessions.values()) session.close();
  sessions.clear();
}

/** grpc-timeout (`<n><unit>`, gRPC over HTTP/2) as a deadline in epoch ms. */
function deadlineOf(headers: IncomingHttpHeaders): number | undefined {
  const value = headers["grpc-timeout"];
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!match) return undefined;
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[match[2] as "H"];
  return Date.now() + Number(match[1]) * unitMs;
}

/** grpc-message's percent-encoding: bytes outside printable ASCII, and `%`, as %XX. */
function grpcMessage(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** A duration as grpc-timeout: at most 8 digits, so long ones are given in seconds. */
function grpcTimeout(ms: number): string {
  const left = Math.max(0, Math.ceil(ms));
  return left <= 99_999_999 ? `${left}m` : `${Math.min(99_999_999, Math.ceil(left / 1000))}S`;
}

/** Answers a stream with only a gRPC status (a "trailers-only" response). */
function answerStatus(
  stream: ServerHttp2Stream,
  status: Partial<grpc.StatusObject>,
  onStatus?: OnStatus,
): void {
  if (stream.destroyed || stream.closed) return;
  onStatus?.(status.code ?? GrpcStatus.UNKNOWN, status.details);
  const headers: OutgoingHttpHeaders = {
    "grpc-status": String(status.code ?? GrpcStatus.UNKNOWN),
    "grpc-message": grpcMessage(status.details ?? ""),
  };
  for (const [k, v] of Object.entries(status.metadata?.getMap() ?? {})) {
    headers[k] = Buffer.isBuffer(v) ? v.toString("base64").replace(/=+$/, "") : v;
  }
  if (stream.headersSent) {
    // The answer has begun and its trailers belong to the upstream: the caller sees a reset.
    stream.close(NGHTTP2_CANCEL);
    return;
  }
  stream.respond(
    { ":status": 200, "content-type": "application/grpc", ...headers },
    { endStream: true },
  );
}

/** Headers of the caller that describe its own connection, never sent upstream. */
function requestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k === ":authority" || k === ":scheme") continue;
    out[k] = v;
  }
  return out;
}

/** Response headers and trailers as they go back to the caller (pseudo-headers but :status off). */
function passBack(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && (k === ":status" || !k.startsWith(":"))) out[k] = v;
  }
  return out;
}

interface Upstream {
  host: string;
  port: number;
  /** The local app: its app-max-concurrency applies. */
  local: boolean;
}

/**
 * Where a call for `appId` goes: the local app on its gRPC port, or the sidecar of the app found
 * through the registry (which delivers it to its app). Throws the invocation's ApiError.
 */
async function upstreamFor(
  ctx: ApiContext,
  appId: string,
  headers: IncomingHttpHeaders,
): Promise<Upstream> {
  if (appId === ctx.appId || appId.split(".")[0] === ctx.appId) {
    if (!ctx.app) throw invokeError(appId, "app channel is not initialized");
    if (!ctx.grpcApp) {
      throw invokeError(
        appId,
        "gRPC proxying needs an app served over gRPC (app protocol grpc); this app is served over http",
      );
    }
    return { host: ctx.app.host, port: ctx.app.port, local: true };
  }
  if (headers[FORWARDED_HEADER] !== undefined) {
    throw invokeError(
      appId,
      `forwarded by ${headers[FORWARDED_HEADER]} to a sidecar of another app`,
    );
  }
  const address = await ctx.resolveApp?.(appId).catch(() => undefined);
  if (!address?.sidecar) throw invokeError(appId, `couldn't find service: ${appId}`);
  return { host: address.sidecar.host, port: address.sidecar.grpcPort, local: false };
}

/**
 * Dapr's gRPC proxying: a call to any gRPC service with `dapr-app-id` metadata goes to that app
 * unchanged as an HTTP/2 stream: path, metadata, messages and trailers pass through frame by
 * frame with HTTP/2 flow control on both sides (nothing is buffered beyond the streams' windows),
 * so unary and streaming calls alike work. As daprd, `dapr-app-id` stays in the metadata; the
 * caller's `dapr-api-token` is checked here and replaced by APP_API_TOKEN for the local app; a
 * call for another app goes to that app's sidecar with `dapr-caller-app-id` and
 * `dapr-callee-app-id`, its token left as the caller sent it (the other sidecar checks it
 * against its own). Cancelled both ways; the caller's `grpc-timeout` and a Resiliency app timeout
 * bound the whole call, and the invocation timeout its silences.
 */
export async function proxyStream(
  ctx: ApiContext,
  options: ProxyOptions,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  appId: string,
): Promise<void> {
  const done = options.drain.begin();
  stream.once("close", done);
  const span = options.tracing
    ? startProxySpan(options.tracing, ctx.appId, appId, headers)
    : undefined;
  let status: { code: number; details?: string } | undefined;
  const onStatus: OnStatus = (code, details) => {
    status ??= { code, ...(details ? { details } : {}) };
  };
  // A call that ends before any status was sent was cancelled (by the caller or a reset).
  if (span)
    stream.once("close", () =>
      span.end(status?.code ?? (GrpcStatus.CANCELLED as number), status?.details ?? "cancelled"),
    );
  // A stream whose caller is gone errors with its reset; that is handled as a cancel below.
  stream.on("error", () => undefined);
  if (options.apiToken) {
    const presented = headers["dapr-api-token"];
    if (!tokenMatches(options.apiToken, typeof presented === "string" ? presented : undefined)) {
      answerStatus(stream, toServiceError(apiError("INVALID_API_TOKEN")), onStatus);
      return;
    }
  }
  let upstream: Upstream;
  try {
    upstream = await upstreamFor(ctx, appId, headers);
  } catch (error) {
    answerStatus(stream, toServiceError(error), onStatus);
    return;
  }
  const out = requestHeaders(headers);
  // The upstream is a child of this call's span.
  if (span) {
    delete out.tracestate;
    Object.assign(out, span.headers);
  }
  if (upstream.local) {
    delete out["dapr-api-token"];
    delete out[FORWARDED_HEADER];
    if (ctx.app?.token) out["dapr-api-token"] = ctx.app.token;
    out["dapr-caller-app-id"] ??= ctx.appId;
    out["dapr-callee-app-id"] = appId;
  } else {
    out["dapr-caller-app-id"] = ctx.appId;
    out["dapr-callee-app-id"] = appId;
    out[FORWARDED_HEADER] = ctx.appId;
  }
  const run = (): Promise<void> =>
    new Promise<void>((resolve) => {
      stream.once("close", resolve);
      if (stream.destroyed || stream.closed) {
        resolve();
        return;
      }
      forward(ctx, stream, headers, out, upstream, appId, onStatus);
    });
  await (upstream.local && ctx.app ? ctx.app.limit.run(run) : run());
}

function forward(
  ctx: ApiContext,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  out: OutgoingHttpHeaders,
  target: Upstream,
  appId: string,
  onStatus: OnStatus,
): void {
  const callerDeadline = deadlineOf(headers);
  // The time left, not the time the caller first gave, goes on.
  if (callerDeadline !== undefined) out["grpc-timeout"] = grpcTimeout(callerDeadline - Date.now());
  let up: ClientHttp2Stream;
  try {
    up = sessionTo(target.host, target.port).request(out);
  } catch (error) {
    answerStatus(stream, toServiceError(invokeError(appId, error)), onStatus);
    return;
  }
  let trailers: IncomingHttpHeaders | undefined;
  let answered = false;
  const fail = (status: Partial<grpc.StatusObject>): void => {
    if (!up.closed) up.close(NGHTTP2_CANCEL);
    answerStatus(stream, status, onStatus);
  };
  // The whole call's deadline: the caller's, or a Resiliency timeout for the app, if sooner.
  const resiliency = ctx.invocation?.appTimeoutsMs?.get(appId.split(".")[0] as string);
  let budget = resiliency;
  if (callerDeadline !== undefined)
    budget = Math.min(budget ?? Number.POSITIVE_INFINITY, callerDeadline - Date.now());
  const deadline =
    budget === undefined
      ? undefined
      : setTimeout(
          () =>
            fail({ code: GrpcStatus.DEADLINE_EXCEEDED as number, details: "Deadline Exceeded" }),
          Math.max(0, budget),
        );
  // A silence longer than the invocation timeout ends the call, streams included.
  const silence = invocationTimeoutMs(ctx);
  const onSilence = (): void =>
    fail(toServiceError(invokeError(appId, `no message for ${silence}ms (invocation timeout)`)));
  up.setTimeout(silence, onSilence);

  stream.once("close", () => {
    if (deadline) clearTimeout(deadline);
    // The caller went away (or the answer is out): the upstream call ends with it.
    if (!up.closed)
      up.close(stream.rstCode === NGHTTP2_NO_ERROR ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
  });
  stream.pipe(up);

  up.once("response", (response) => {
    answered = true;
    if (stream.destroyed || stream.closed) return;
    if (response["grpc-status"] !== undefined) {
      // Trailers-only: the status is the whole answer.
      const { code, details } = statusOf(response);
      onStatus(code, details);
      stream.respond(passBack(response), { endStream: true });
      return;
    }
    stream.respond(passBack(response), { waitForTrailers: true });
    stream.once("wantTrailers", () => {
      if (trailers) {
        const { code, details } = statusOf(trailers);
        onStatus(code, details);
      } else onStatus(GrpcStatus.INTERNAL as number, `${appId} ended the call without a status`);
      stream.sendTrailers(
        trailers
          ? passBack(trailers)
          : {
              "grpc-status": String(GrpcStatus.INTERNAL),
              "grpc-message": grpcMessage(`${appId} ended the call without a status`),
            },
      );
    });
    up.pipe(stream);
  });
  up.once("trailers", (t) => {
    trailers = t;
  });
  up.on("error", (error) => {
    if (!answered) fail(toServiceError(invokeError(appId, error)));
  });
  up.once("close", () => {
    if (stream.destroyed || stream.closed) return;
    if (!answered) {
      fail(
        up.rstCode === NGHTTP2_CANCEL
          ? { code: GrpcStatus.CANCELLED as number, details: `${appId} cancelled the call` }
          : toServiceError(invokeError(appId, `the stream was reset (code ${up.rstCode})`)),
      );
    } else if (up.rstCode !== NGHTTP2_NO_ERROR && !stream.writableEnded) {
      // Reset mid-answer: the caller sees the same reset.
      stream.close(up.rstCode);
    }
  });
}
