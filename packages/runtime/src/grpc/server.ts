import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { type ApiAccess, refusedGrpcError } from "../api/api-allowlist.ts";
import type { ApiContext } from "../api/context.ts";
import { apiError } from "../api/errors.ts";
import { tokenMatches } from "../http/guard.ts";
import type { Drain } from "../lifecycle/drain.ts";
import { startGrpcSpan } from "../tracing/grpc-tracing.ts";
import type { SidecarTracing } from "../tracing/sidecar-tracing.ts";
import { ACTOR_METHODS } from "./actors.ts";
import { type CryptoStream, DAPR_STREAMS } from "./crypto.ts";
import { buildingBlockOf, DAPR_METHODS, DAPR_SERVER_STREAMS } from "./dapr-service.ts";
import { errorCodeOf, toServiceError } from "./errors.ts";
import { startGrpcFront } from "./front.ts";
import { JOB_METHODS, withStableJobMethods } from "./jobs.ts";
import { daprProtos } from "./protos.ts";
import { APP_ID_HEADER, proxyStream } from "./proxy.ts";
import { subscribeTopicEvents } from "./subscribe-topic-events.ts";

export interface GrpcApiOptions {
  /** When set, every call needs `dapr-api-token: <token>` metadata (no exemption, as daprd). */
  apiToken?: string | undefined;
  /** Largest request message in bytes (daprd's `--max-body-size` applies to gRPC too). */
  maxBodySize: number;
  /** Every call is tracked, so a graceful stop waits for it. */
  drain: Drain;
  /**
   * More gRPC services served beside `dapr.proto.runtime.v1.Dapr` on the same port (e.g. a
   * workflow engine's TaskHubSidecarService): their calls are never proxied, even with
   * `dapr-app-id`, as daprd proxies only the services it does not serve.
   */
  services?: readonly GrpcService[];
  /** Called when a unary call is answered: full method name, status code name, milliseconds. */
  onCompleted?: ((method: string, status: string, ms: number) => void) | undefined;
  /** Called with the Dapr error code of each unary call answered with one. */
  onErrorCode?: ((code: string) => void) | undefined;
  /** Traces every unary call (daprd's gRPC tracing interceptor); absent while tracing is off. */
  tracing?: SidecarTracing | undefined;
  /** The Configuration's `api` lists: a refused Dapr method answers as daprd's interceptor. */
  access?: ApiAccess | undefined;
}

export interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** A service's handlers behind the same `dapr-api-token` check as the Dapr service's. */
function guarded(
  service: GrpcService,
  allowed: (call: AnyCall) => boolean,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(service.implementation)) {
    const unary =
      !service.definition[name]?.requestStream && !service.definition[name]?.responseStream;
    out[name] = ((call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
      if (allowed(call)) return (handler as (...args: unknown[]) => void)(call, callback);
      const refused = toServiceError(apiError("INVALID_API_TOKEN")) as grpc.ServiceError;
      if (unary && callback) callback(refused);
      else call.emit("error", refused);
    }) as grpc.UntypedHandleCall;
  }
  return out;
}

/** `pkg.Service` of a `/pkg.Service/Method` path. */
function serviceOf(path: string | undefined): string {
  if (!path) return "";
  const end = path.indexOf("/", 1);
  return end > 0 ? path.slice(1, end) : "";
}

export interface GrpcApiServer {
  readonly port: number;
  /** Stops at once (a failed start-up); a running sidecar stops it through its drain. */
  close(): void;
}

type AnyCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

/**
 * Serves `dapr.proto.runtime.v1.Dapr` on `host:port` (0 = a free port): the methods of
 * DAPR_METHODS, each a thin adapter over the API core, and UNIMPLEMENTED naming the method and
 * its building block for every other one; a call to any other service with `dapr-app-id` is
 * proxied to that app (see proxyStream). The server joins the sidecar's drain: it stops
 * accepting first, its calls in flight are waited for, then it is shut down.
 */
export async function startGrpcApi(
  ctx: ApiContext,
  host: string,
  port: number,
  options: GrpcApiOptions,
): Promise<GrpcApiServer> {
  const { dapr } = daprProtos();
  const definition = withStableJobMethods(dapr.dapr.proto.runtime.v1.Dapr.service);
  const allowed = (call: AnyCall): boolean => {
    if (!options.apiToken) return true;
    const presented = call.metadata.get("dapr-api-token")[0];
    return tokenMatches(options.apiToken, typeof presented === "string" ? presented : undefined);
  };
  const implementation: grpc.UntypedServiceImplementation = {};
  const observe = options.onCompleted;
  const onErrorCode = options.onErrorCode;
  const tracing = options.tracing;
  /** A handler answering every call with `error`, after the token check unless `beforeToken`. */
  const answering = (
    method: grpc.MethodDefinition<unknown, unknown>,
    error: () => Partial<grpc.StatusObject>,
    beforeToken = false,
  ): grpc.UntypedHandleCall => {
    const reply = (call: AnyCall) =>
      (beforeToken || allowed(call)
        ? error()
        : toServiceError(apiError("INVALID_API_TOKEN"))) as grpc.ServiceError;
    return (
      method.responseStream || method.requestStream
        ? (call: AnyCall) => call.emit("error", reply(call))
        : (call: AnyCall, callback: grpc.sendUnaryData<unknown>) => callback(reply(call))
    ) as grpc.UntypedHandleCall;
  };
  const access = options.access?.grpcRestricted ? options.access : undefined;
  for (const [name, method] of Object.entries(definition)) {
    if (access && !access.grpcServes(method.path)) {
      // daprd's access-list interceptor runs before its token check.
      implementation[name] = answering(method, () => toServiceError(refusedGrpcError()), true);
      continue;
    }
    const served =
      DAPR_METHODS[name as keyof typeof DAPR_METHODS] ??
      JOB_METHODS[name as keyof typeof JOB_METHODS] ??
      ACTOR_METHODS[name as keyof typeof ACTOR_METHODS];
    if (served && !method.requestStream && !method.responseStream) {
      const fullName = method.path;
      implementation[name] = ((
        call: grpc.ServerUnaryCall<never, unknown>,
        answer: grpc.sendUnaryData<unknown>,
      ) => {
        const began = observe ? performance.now() : 0;
        const ended = tracing ? startGrpcSpan(tracing, fullName, call) : undefined;
        const callback: grpc.sendUnaryData<unknown> =
          observe || ended || onErrorCode
            ? (error, reply) => {
                const code = onErrorCode && errorCodeOf(error);
                if (code) onErrorCode?.(code);
                observe?.(
                  fullName,
                  grpc.status[error?.code ?? grpc.status.OK],
                  performance.now() - began,
                );
                ended?.(error);
                answer(error, reply);
              }
            : answer;
        if (!allowed(call)) {
          callback(toServiceError(apiError("INVALID_API_TOKEN")));
          return;
        }
        void options.drain.track(() =>
          served(ctx, call.request, call).then(
            (reply) => callback(null, reply),
            (error: unknown) => callback(toServiceError(error)),
          ),
        );
      }) as grpc.UntypedHandleCall;
      continue;
    }
    const stream = DAPR_STREAMS[name];
    if (stream && method.requestStream && method.responseStream) {
      implementation[name] = ((call: CryptoStream) => {
        if (!allowed(call)) {
          call.emit("error", toServiceError(apiError("INVALID_API_TOKEN")));
          return;
        }
        void options.drain.track(() => stream(ctx, call));
      }) as grpc.UntypedHandleCall;
      continue;
    }
    const serverStream = DAPR_SERVER_STREAMS[name as keyof typeof DAPR_SERVER_STREAMS];
    if (serverStream && !method.requestStream && method.responseStream) {
      implementation[name] = ((call: grpc.ServerWritableStream<never, never>) => {
        if (!allowed(call)) {
          call.emit("error", toServiceError(apiError("INVALID_API_TOKEN")));
          return;
        }
        // Not tracked as a call in flight: a subscription stream lives until it is ended (the
        // drain ends it with its subscription); its deliveries are tracked one by one.
        serverStream(ctx, call);
      }) as grpc.UntypedHandleCall;
      continue;
    }
    if (name === "SubscribeTopicEventsAlpha1") {
      implementation[name] = ((call: grpc.ServerDuplexStream<never, never>) => {
        if (allowed(call)) subscribeTopicEvents(ctx, call);
        else call.emit("error", toServiceError(apiError("INVALID_API_TOKEN")));
      }) as grpc.UntypedHandleCall;
      continue;
    }
    implementation[name] = answering(method, () =>
      toServiceError(
        apiError("API_UNIMPLEMENTED", {
          api: `${buildingBlockOf(name)} (method dapr.proto.runtime.v1.Dapr/${name})`,
        }),
      ),
    );
  }
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxBodySize,
    "grpc.max_send_message_length": -1,
  });
  server.addService(definition, implementation);
  const served = new Set<string>();
  for (const method of Object.values(definition)) served.add(serviceOf(method.path));
  for (const service of options.services ?? []) {
    server.addService(service.definition, guarded(service, allowed));
    for (const method of Object.values(service.definition)) served.add(serviceOf(method.path));
  }
  // Calls to a service not served here that name an app are Dapr's gRPC proxying.
  const front = await startGrpcFront(server, host, port, (stream, headers) => {
    const appId = headers[APP_ID_HEADER];
    if (typeof appId !== "string" || appId === "" || served.has(serviceOf(headers[":path"])))
      return false;
    void proxyStream(ctx, options, stream, headers, appId);
    return true;
  });
  options.drain.on("accept", () => front.stopAccepting());
  // By "force" the calls in flight have ended or had their graceful period: let their answers
  // flush (tryShutdown), and cut whatever is still open after a moment.
  options.drain.on(
    "force",
    () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  );
  return {
    port: front.port,
    close: () => {
      front.stopAccepting();
      server.forceShutdown();
    },
  };
}
