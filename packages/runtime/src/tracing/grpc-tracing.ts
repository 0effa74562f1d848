import { Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Attributes } from "@opentelemetry/api";
import { endSpan, type SidecarTracing, SpanKind } from "./sidecar-tracing.ts";

const INVOKE_SERVICE = "/dapr.proto.runtime.v1.Dapr/InvokeService";

/** The dapr.proto.runtime.v1.Dapr methods whose request names a component, by building block. */
const DB_SYSTEMS: Readonly<Record<string, string>> = {
  GetState: "state",
  GetBulkState: "state",
  SaveState: "state",
  DeleteState: "state",
  DeleteBulkState: "state",
  ExecuteStateTransaction: "state",
  QueryStateAlpha1: "state",
  GetSecret: "secrets",
  GetBulkSecret: "secrets",
  InvokeBinding: "bindings",
};

const PUBLISH = new Set(["PublishEvent", "BulkPublishEvent", "BulkPublishEventAlpha1"]);

/**
 * daprd's attributes of a gRPC API span (`spanAttributesMapFromGRPC`) and its name: the full
 * method, or `CallLocal/<app>/<method>` for InvokeService.
 */
export function grpcSpanAttributes(
  fullMethod: string,
  request: unknown,
): { name: string; attributes: Attributes } {
  const r = (request ?? {}) as {
    id?: string;
    message?: { method?: string } | null;
    storeName?: string;
    name?: string;
    topic?: string;
  };
  const attributes: Attributes = { "dapr.protocol": "grpc", "dapr.api": fullMethod };
  let name = fullMethod;
  const method = fullMethod.slice(fullMethod.lastIndexOf("/") + 1);
  const system = DB_SYSTEMS[method];
  if (fullMethod === INVOKE_SERVICE) {
    attributes["rpc.service"] = "ServiceInvocation";
    attributes["net.peer.name"] = r.id ?? "";
    name = `CallLocal/${r.id ?? ""}/${r.message?.method ?? ""}`;
  } else if (PUBLISH.has(method)) {
    attributes["rpc.service"] = "Dapr";
    attributes["messaging.system"] = "pubsub";
    attributes["messaging.destination.name"] = r.topic ?? "";
    attributes["messaging.destination_kind"] = "topic";
  } else if (system) {
    attributes["rpc.service"] = "Dapr";
    attributes["db.system"] = system;
    attributes["db.name"] = (system === "bindings" ? r.name : r.storeName) ?? "";
    attributes["db.statement"] = fullMethod;
    attributes["db.connection_string"] = system;
  }
  return { name, attributes };
}

/**
 * A span context in OpenCensus' binary format, daprd's `grpc-trace-bin`: version 0, then field 0
 * (16-byte trace id), field 1 (8-byte span id), field 2 (1-byte trace options).
 */
export function traceBinary(traceId: string, spanId: string, sampled: boolean): Buffer {
  const out = Buffer.alloc(29);
  out[1] = 0;
  Buffer.from(traceId, "hex").copy(out, 2);
  out[18] = 1;
  Buffer.from(spanId, "hex").copy(out, 19);
  out[27] = 2;
  out[28] = sampled ? 1 : 0;
  return out;
}

/** The first string value of a metadata key. */
function first(metadata: Metadata, key: string): string | undefined {
  const v = metadata.get(key)[0];
  return typeof v === "string" && v ? v : undefined;
}

/**
 * Starts the span of one unary gRPC API call (kind CLIENT, as daprd's interceptor) under the
 * caller's `traceparent`/`tracestate` metadata, and puts the span's own context in their place,
 * so what the method passes on (invocation metadata, the CloudEvent, binding metadata) names it.
 * As daprd, every answer but InvokeService's (which carries the callee's) sends the span's context
 * back as `grpc-trace-bin`. Returns what ends the span with the call's outcome.
 */
export function startGrpcSpan(
  tracing: SidecarTracing,
  fullMethod: string,
  call: { metadata: Metadata; request: unknown; sendMetadata(metadata: Metadata): void },
): (error: Partial<ServiceError> | null | undefined) => void {
  const span = tracing.start(fullMethod, SpanKind.CLIENT, {
    traceparent: first(call.metadata, "traceparent"),
    tracestate: first(call.metadata, "tracestate"),
  });
  const carried = tracing.headers(span);
  call.metadata.set("traceparent", carried.traceparent);
  if (carried.tracestate) call.metadata.set("tracestate", carried.tracestate);
  else call.metadata.remove("tracestate");
  if (fullMethod !== INVOKE_SERVICE) {
    const context = span.spanContext();
    const answer = new Metadata();
    answer.set(
      "grpc-trace-bin",
      traceBinary(context.traceId, context.spanId, (context.traceFlags & 1) === 1),
    );
    call.sendMetadata(answer);
  }
  return (error) => {
    if (span.isRecording()) {
      // Now, not when read: the span buffer would otherwise keep every request it holds alive.
      const { name, attributes } = grpcSpanAttributes(fullMethod, call.request);
      span.setAttributes(attributes);
      span.updateName(name);
    }
    endSpan(span, Boolean(error), error?.details ?? error?.message);
  };
}

/** The W3C traceparent of an OpenCensus binary span context (`grpc-trace-bin`), if well formed. */
function traceparentOfBinary(bin: Buffer): string | undefined {
  if (bin.length < 29 || bin[0] !== 0 || bin[1] !== 0 || bin[18] !== 1 || bin[27] !== 2)
    return undefined;
  const traceId = bin.subarray(2, 18).toString("hex");
  const spanId = bin.subarray(19, 27).toString("hex");
  return `00-${traceId}-${spanId}-0${(bin[28] ?? 0) & 1}`;
}

function header(headers: Record<string, string | string[] | undefined>, key: string) {
  const v = headers[key];
  return typeof v === "string" && v ? v : undefined;
}

/**
 * The span of one proxied gRPC call (daprd's stream interceptor for proxied requests): named for
 * the full method (`/<service>/<method>`), kind SERVER on the target app's sidecar and CLIENT on
 * the caller's, a child of the caller's `grpc-trace-bin` (else `traceparent` / `tracestate`), with
 * the caller's `dapr-` prefixed metadata as attributes. Returns the span's context for the
 * upstream (`traceparent`, `tracestate`, `grpc-trace-bin`) and what ends it with the call's status.
 */
export function startProxySpan(
  tracing: SidecarTracing,
  ownAppId: string,
  targetAppId: string,
  headers: Record<string, string | string[] | undefined>,
): { headers: Record<string, string>; end(code: number, details?: string): void } {
  const bin = header(headers, "grpc-trace-bin");
  const fromBin = bin ? traceparentOfBinary(Buffer.from(bin, "base64")) : undefined;
  const attributes: Attributes = {};
  for (const [k, v] of Object.entries(headers))
    if (k.startsWith("dapr-") && !k.endsWith("-bin") && typeof v === "string") attributes[k] = v;
  const span = tracing.start(
    header(headers, ":path") ?? "",
    targetAppId === ownAppId || targetAppId.split(".")[0] === ownAppId
      ? SpanKind.SERVER
      : SpanKind.CLIENT,
    {
      traceparent: fromBin ?? header(headers, "traceparent"),
      tracestate: header(headers, "tracestate"),
    },
    attributes,
  );
  const carried: Record<string, string> = { ...tracing.headers(span) };
  const context = span.spanContext();
  carried["grpc-trace-bin"] = traceBinary(
    context.traceId,
    context.spanId,
    (context.traceFlags & 1) === 1,
  ).toString("base64");
  let ended = false;
  return {
    headers: carried,
    end(code, details) {
      if (ended) return;
      ended = true;
      endSpan(span, code !== 0, details);
    },
  };
}
