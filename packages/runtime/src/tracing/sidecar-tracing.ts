import {
  type Attributes,
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "@outrig/core";
import { RUNTIME_VERSION } from "../version.ts";
import { exportProcessors } from "./exporters.ts";
import { SpanBuffer } from "./span-buffer.ts";
import type { TracingConfig } from "./tracing-config.ts";

export type { Span };
export { SpanKind };

/** The W3C trace context one hop passes to the next. */
export interface TraceHeaders {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

const propagator = new W3CTraceContextPropagator();

/**
 * The tracing of one sidecar: its own tracer provider (never the process-global one, so sidecars
 * and an instrumented app sharing a process keep apart), sampling as daprd does (a sampled parent
 * is always followed, anything else sampled at `samplingRate`), the span buffer and the exporters
 * the Configuration names. Parents travel explicitly as W3C headers, not through an async context.
 */
export class SidecarTracing {
  readonly buffer: SpanBuffer;
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;

  constructor(appId: string, config: TracingConfig, logger: Logger) {
    this.buffer = new SpanBuffer(appId);
    const ratio = new TraceIdRatioBasedSampler(config.samplingRate);
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": appId }),
      sampler: new ParentBasedSampler({
        root: ratio,
        remoteParentNotSampled: ratio,
        localParentNotSampled: ratio,
      }),
      spanProcessors: [this.buffer, ...exportProcessors(config, logger)],
    });
    this.#tracer = this.#provider.getTracer("outrig", RUNTIME_VERSION);
  }

  /**
   * Starts a span whose parent is the trace context in `parent` (a new trace when it is absent
   * or malformed).
   */
  start(name: string, kind: SpanKind, parent: TraceHeaders, attributes?: Attributes): Span {
    return this.#tracer.startSpan(
      name,
      { kind, ...(attributes ? { attributes } : {}) },
      parentContext(parent),
    );
  }

  /** The headers that make `span` the parent of the next hop. */
  headers(span: Span): { traceparent: string; tracestate?: string } {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
    return carrier as { traceparent: string; tracestate?: string };
  }

  /** Flushes the exporters (bounded by their timeouts) and stops. */
  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}

function parentContext(parent: TraceHeaders): Context {
  if (!parent.traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, parent, defaultTextMapGetter);
}

/** Ends `span` as failed (with `message`) or not, as daprd sets a span's status. */
export function endSpan(span: Span, failed: boolean, message?: string): void {
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  span.end();
}
