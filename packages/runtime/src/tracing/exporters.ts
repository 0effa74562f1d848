import { Metadata } from "@grpc/grpc-js";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter as OtlpGrpcExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as OtlpHttpExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { ZipkinExporter } from "@opentelemetry/exporter-zipkin";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "@outrig/core";
import type { TracingConfig } from "./tracing-config.ts";

/** How long one batch export may take when the Configuration does not say. */
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * Spans wait at most this long before they are sent: shorter than the SDK's 5 s, so the local
 * loop sees a trace in Zipkin about when the calls finish; a batch is still one request.
 */
const EXPORT_DELAY_MS = 1000;

/**
 * `exporter` with its failures logged: the first failure, then again only after an export
 * succeeded, so an unreachable collector is reported once, not once per batch.
 */
function logged(exporter: SpanExporter, what: string, logger: Logger): SpanExporter {
  let failing = false;
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.FAILED) {
          if (!failing)
            logger.warn(`trace export to ${what} failed; spans are dropped while it fails`, {
              error: result.error?.message,
              spans: spans.length,
            });
          failing = true;
        } else failing = false;
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush
      ? { forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve() }
      : {}),
  };
}

function batched(exporter: SpanExporter, timeoutMs: number): SpanProcessor {
  return new BatchSpanProcessor({
    exporter,
    scheduledDelayMillis: EXPORT_DELAY_MS,
    exportTimeoutMillis: timeoutMs,
    // The SDK's default bound: past it new spans are dropped, never buffered without limit.
    maxQueueSize: 2048,
  });
}

/**
 * One batching processor per exporter the Configuration names: Zipkin's v2 JSON API, OTLP over
 * HTTP (protobuf) or gRPC, and `stdout` (each span logged at info).
 */
export function exportProcessors(config: TracingConfig, logger: Logger): SpanProcessor[] {
  const out: SpanProcessor[] = [];
  if (config.zipkin) {
    const exporter = new ZipkinExporter({ url: config.zipkin });
    out.push(batched(logged(exporter, `zipkin ${config.zipkin}`, logger), EXPORT_TIMEOUT_MS));
  }
  const otel = config.otel;
  if (otel) {
    let exporter: SpanExporter;
    if (otel.protocol === "grpc") {
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(otel.headers)) metadata.set(k, v);
      exporter = new OtlpGrpcExporter({ url: otel.url, metadata, timeoutMillis: otel.timeoutMs });
    } else {
      exporter = new OtlpHttpExporter({
        url: otel.url,
        headers: otel.headers,
        timeoutMillis: otel.timeoutMs,
      });
    }
    out.push(batched(logged(exporter, `otel ${otel.url}`, logger), otel.timeoutMs));
  }
  if (config.stdout) out.push(stdoutSpans(logger));
  return out;
}

/** Dapr's `stdout` exporter: one log line per finished span. */
function stdoutSpans(logger: Logger): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span: ReadableSpan): void {
      const context = span.spanContext();
      logger.info(`[${span.name}] Trace: ${context.traceId}`, {
        traceId: context.traceId,
        spanId: context.spanId,
        parentSpanId: span.parentSpanContext?.spanId ?? "",
        attributes: span.attributes,
      });
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
