import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { hrTimeToMilliseconds } from "@opentelemetry/core";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace";

/** One finished span as `GET /outrig/v1/spans` lists it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OpenTelemetry's span kind by name: SERVER, CLIENT, PRODUCER, CONSUMER or INTERNAL. */
  kind: string;
  startTimeMs: number;
  durationMs: number;
  appId: string;
  attributes: Record<string, unknown>;
  status: "ok" | "error";
}

/** Spans the sidecar keeps for `GET /outrig/v1/spans` unless told otherwise. */
export const DEFAULT_SPAN_BUFFER_SIZE = 1000;

/**
 * The sidecar's most recently finished spans, the oldest overwritten first: a span processor
 * beside the exporters, so the local loop (the dashboard) sees traces with no exporter at all.
 * Finished spans are kept as the SDK hands them over and converted only when read, so recording
 * one costs a slot assignment.
 */
export class SpanBuffer implements SpanProcessor {
  readonly #slots: (ReadableSpan | undefined)[];
  #next = 0;
  #count = 0;
  readonly #appId: string;

  constructor(appId: string, size = DEFAULT_SPAN_BUFFER_SIZE) {
    if (!Number.isInteger(size) || size <= 0)
      throw new RangeError(`span buffer size must be a positive integer, got ${size}`);
    this.#appId = appId;
    this.#slots = new Array<ReadableSpan | undefined>(size);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    // Unsampled spans carry no trace worth showing (and the SDK hands none to processors).
    this.#slots[this.#next] = span;
    this.#next = (this.#next + 1) % this.#slots.length;
    if (this.#count < this.#slots.length) this.#count++;
  }

  /** The newest `limit` spans (all kept when absent), oldest first. */
  recent(limit?: number): SpanRecord[] {
    const n = Math.min(limit ?? this.#count, this.#count);
    const out: SpanRecord[] = [];
    const size = this.#slots.length;
    for (let i = n; i > 0; i--) {
      const span = this.#slots[(this.#next - i + size) % size];
      if (span) out.push(spanRecord(span, this.#appId));
    }
    return out;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const KIND_NAMES: Readonly<Record<number, string>> = {
  [SpanKind.INTERNAL]: "INTERNAL",
  [SpanKind.SERVER]: "SERVER",
  [SpanKind.CLIENT]: "CLIENT",
  [SpanKind.PRODUCER]: "PRODUCER",
  [SpanKind.CONSUMER]: "CONSUMER",
};

function spanRecord(span: ReadableSpan, appId: string): SpanRecord {
  const context = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name: span.name,
    kind: KIND_NAMES[span.kind] ?? "INTERNAL",
    startTimeMs: hrTimeToMilliseconds(span.startTime),
    durationMs: hrTimeToMilliseconds(span.duration),
    appId,
    attributes: { ...span.attributes },
    status: span.status.code === SpanStatusCode.ERROR ? "error" : "ok",
  };
}
