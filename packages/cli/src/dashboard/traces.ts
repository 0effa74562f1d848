import type { SpanRecord } from "@outrig/runtime";

/** One span as a sidecar's span buffer serves it (`GET /outrig/v1/spans`). */
export type Span = SpanRecord;

/** A span placed in its trace: nested `depth` levels under its root, `offsetMs` after its start. */
export interface TraceRow extends Span {
  depth: number;
  offsetMs: number;
}

/** One trace, its spans from every app merged, in the order a timeline draws them. */
export interface TraceView {
  traceId: string;
  name: string;
  startTimeMs: number;
  durationMs: number;
  appIds: string[];
  status: "ok" | "error";
  rows: TraceRow[];
}

function isSpan(value: unknown): value is Span {
  const s = value as Partial<Span> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.traceId === "string" &&
    typeof s.spanId === "string" &&
    (s.parentSpanId === undefined || typeof s.parentSpanId === "string") &&
    typeof s.name === "string" &&
    typeof s.startTimeMs === "number" &&
    Number.isFinite(s.startTimeMs) &&
    typeof s.durationMs === "number" &&
    Number.isFinite(s.durationMs) &&
    typeof s.appId === "string"
  );
}

/**
 * The spans of a `GET /outrig/v1/spans` answer; entries that are not spans are dropped rather
 * than failing the whole answer (one odd span must not hide an app's traces).
 */
export function parseSpans(body: unknown): Span[] {
  const spans = (body as { spans?: unknown } | null)?.spans;
  if (!Array.isArray(spans)) throw new Error('the answer has no "spans" array');
  return spans.filter(isSpan).map((s) => ({
    ...s,
    kind: typeof s.kind === "string" ? s.kind : "",
    attributes: typeof s.attributes === "object" && s.attributes !== null ? s.attributes : {},
    status: s.status === "error" ? "error" : "ok",
  }));
}

const byStart = (a: Span, b: Span) => a.startTimeMs - b.startTimeMs;

/** One trace's rows: depth first from its roots, children by start time. */
function layout(spans: Span[]): TraceRow[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const span of spans) {
    // A parent outside the buffers (evicted, or in an app not running any more) makes a root.
    if (span.parentSpanId && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId) {
      const siblings = children.get(span.parentSpanId) ?? [];
      siblings.push(span);
      children.set(span.parentSpanId, siblings);
    } else roots.push(span);
  }
  const start = Math.min(...spans.map((s) => s.startTimeMs));
  const rows: TraceRow[] = [];
  const placed = new Set<string>();
  const visit = (span: Span, depth: number) => {
    if (placed.has(span.spanId)) return;
    placed.add(span.spanId);
    rows.push({ ...span, depth, offsetMs: span.startTimeMs - start });
    for (const child of (children.get(span.spanId) ?? []).sort(byStart)) visit(child, depth + 1);
  };
  for (const root of roots.sort(byStart)) visit(root, 0);
  // Spans only reachable through a parent cycle (a broken exporter) still show, as roots.
  for (const span of spans.sort(byStart)) visit(span, 0);
  return rows;
}

/**
 * Groups spans gathered from several sidecars into traces: one span reported twice (two apps
 * sharing a buffer) counts once; the newest `limit` traces come first.
 */
export function buildTraces(spans: readonly Span[], limit: number): TraceView[] {
  const traces = new Map<string, Map<string, Span>>();
  for (const span of spans) {
    const trace = traces.get(span.traceId) ?? new Map<string, Span>();
    trace.set(span.spanId, span);
    traces.set(span.traceId, trace);
  }
  const views: TraceView[] = [];
  for (const [traceId, byId] of traces) {
    const rows = layout([...byId.values()]);
    const startTimeMs = Math.min(...rows.map((r) => r.startTimeMs));
    const endMs = Math.max(...rows.map((r) => r.startTimeMs + r.durationMs));
    views.push({
      traceId,
      name: rows[0]?.name ?? "",
      startTimeMs,
      durationMs: endMs - startTimeMs,
      appIds: [...new Set(rows.map((r) => r.appId))],
      status: rows.some((r) => r.status === "error") ? "error" : "ok",
      rows,
    });
  }
  return views.sort((a, b) => b.startTimeMs - a.startTimeMs).slice(0, limit);
}
