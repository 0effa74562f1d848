import { randomBytes } from "node:crypto";
import type { AppRecord, AppRegistry } from "../registry.ts";
import { boundedGet } from "./bounded-get.ts";
import { sumSamples } from "./prometheus-text.ts";
import { buildTraces, parseSpans, type Span, type TraceView } from "./traces.ts";

/** The counters behind the page's rate charts, by their Prometheus names (daprd's). */
export const RATE_COUNTERS = {
  httpRequests: "dapr_http_server_request_count",
  grpcRequests: "dapr_grpc_io_server_completed_rpcs",
  pubsubIngress: "dapr_component_pubsub_ingress_count",
  pubsubEgress: "dapr_component_pubsub_egress_count",
} as const;

/**
 * The sidecar routes the dashboard itself reads on every poll: left out of the request rate, so
 * an idle app shows 0 requests/s rather than the dashboard's own traffic.
 */
const DASHBOARD_ROUTES = new Set(["/v1.0/healthz", "/v1.0/metadata", "/outrig/v1/spans"]);

export type Counters = Record<keyof typeof RATE_COUNTERS, number>;

export interface ComponentView {
  name: string;
  type: string;
  version: string;
  capabilities: string[];
}

export interface SubscriptionView {
  pubsubname: string;
  topic: string;
  routes: string[];
  deadLetterTopic: string;
  type: string;
}

/** One app as the page shows it; each part says whether its source answered. */
export interface AppView {
  appId: string;
  httpPort: number;
  grpcPort: number;
  metricsPort?: number;
  appPort?: number;
  command: string;
  startedAt: string;
  cliPid: number;
  appPid?: number;
  /** `ready`: /v1.0/healthz answered 204; `unreachable`: the sidecar did not answer in time. */
  sidecar: "ready" | "not ready" | "unreachable";
  /** What the sidecar's app health probe last concluded, when app health checks are on. */
  appHealth?: string;
  runtimeVersion?: string;
  components: ComponentView[];
  subscriptions: SubscriptionView[];
  /** Counter totals at `Snapshot.at`; absent when metrics are off or did not answer. */
  counters?: Counters;
  metrics: "ok" | "off" | "unreachable";
  /** Whether the sidecar's span buffer answered. */
  spans: "ok" | "unavailable";
  /** Why a part is missing: one line per source that failed. */
  errors: string[];
}

export interface Snapshot {
  /** Epoch ms when the counters were read, so the page can turn two snapshots into rates. */
  at: number;
  apps: AppView[];
  /** Recent traces, their spans merged across every app's sidecar, newest first. */
  traces: TraceView[];
}

export interface SnapshotOptions {
  /** Per call to a sidecar. */
  timeoutMs: number;
  /** Spans asked of each sidecar. */
  spanLimit: number;
  /** Traces in a snapshot. */
  traceLimit: number;
}

// A metadata document or span buffer past this is not one a local sidecar sends.
const MAX_JSON_BYTES = 8 * 1024 * 1024;
const MAX_METRICS_BYTES = 8 * 1024 * 1024;

/**
 * The trace id prefix of the dashboard's own calls ("outrig-d" in hex). Each call carries a W3C
 * traceparent with it, flagged not sampled, so polling does not fill the trace exporter with its
 * own reads; a sidecar that records them anyway puts them in traces the snapshot leaves out.
 */
export const DASHBOARD_TRACE_PREFIX = "6f75747269672d64";

function ownTraceHeaders(): Record<string, string> {
  const traceId = DASHBOARD_TRACE_PREFIX + randomBytes(8).toString("hex");
  return { traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-00` };
}

function get(url: string, timeoutMs: number, maxBytes: number) {
  return boundedGet(url, timeoutMs, maxBytes, ownTraceHeaders());
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const { status, text } = await get(url, timeoutMs, MAX_JSON_BYTES);
  if (status !== 200) throw new Error(`GET ${url}: status ${status}`);
  return JSON.parse(text) as unknown;
}

interface Metadata {
  runtimeVersion?: string;
  components?: Partial<ComponentView>[];
  subscriptions?: {
    pubsubname?: string;
    topic?: string;
    rules?: { path?: string }[];
    deadLetterTopic?: string;
    type?: string;
  }[];
  appConnectionProperties?: { health?: { status?: string } };
}

function components(metadata: Metadata): ComponentView[] {
  return (metadata.components ?? []).map((c) => ({
    name: String(c.name ?? ""),
    type: String(c.type ?? ""),
    version: String(c.version ?? ""),
    capabilities: Array.isArray(c.capabilities) ? c.capabilities.map(String) : [],
  }));
}

function subscriptions(metadata: Metadata): SubscriptionView[] {
  return (metadata.subscriptions ?? []).map((s) => ({
    pubsubname: String(s.pubsubname ?? ""),
    topic: String(s.topic ?? ""),
    routes: (s.rules ?? []).map((r) => String(r.path ?? "")),
    deadLetterTopic: String(s.deadLetterTopic ?? ""),
    type: String(s.type ?? ""),
  }));
}

/** Asks one app's sidecar for everything the page shows, each call bounded by the timeout. */
async function probe(
  record: AppRecord,
  options: SnapshotOptions,
): Promise<{ view: AppView; spans: Span[] }> {
  const host = record.apiHost ?? "127.0.0.1";
  const api = `http://${host}:${record.httpPort}`;
  const { timeoutMs } = options;
  const [health, metadata, metrics, spans] = await Promise.allSettled([
    get(`${api}/v1.0/healthz`, timeoutMs, MAX_JSON_BYTES),
    getJson(`${api}/v1.0/metadata`, timeoutMs) as Promise<Metadata>,
    record.metricsPort === undefined
      ? Promise.resolve(undefined)
      : get(`http://${host}:${record.metricsPort}/metrics`, timeoutMs, MAX_METRICS_BYTES),
    getJson(`${api}/outrig/v1/spans?limit=${options.spanLimit}`, timeoutMs).then(parseSpans),
  ]);
  const errors: string[] = [];
  const reason = (r: PromiseRejectedResult) => errors.push((r.reason as Error).message);
  const view: AppView = {
    appId: record.appId,
    httpPort: record.httpPort,
    grpcPort: record.grpcPort,
    metricsPort: record.metricsPort,
    appPort: record.appPort,
    command: record.command.join(" "),
    startedAt: record.startedAt,
    cliPid: record.cliPid,
    appPid: record.appPid,
    sidecar: "unreachable",
    components: [],
    subscriptions: [],
    metrics: record.metricsPort === undefined ? "off" : "unreachable",
    spans: "unavailable",
    errors,
  };
  if (health.status === "fulfilled") {
    view.sidecar = health.value.status === 204 ? "ready" : "not ready";
  } else reason(health);
  if (metadata.status === "fulfilled") {
    view.runtimeVersion = metadata.value.runtimeVersion;
    view.components = components(metadata.value);
    view.subscriptions = subscriptions(metadata.value);
    view.appHealth = metadata.value.appConnectionProperties?.health?.status;
  } else reason(metadata);
  if (metrics.status === "fulfilled" && metrics.value) {
    if (metrics.value.status === 200) {
      const sums = sumSamples(metrics.value.text, Object.values(RATE_COUNTERS), (labels) =>
        DASHBOARD_ROUTES.has(labels.path ?? ""),
      );
      view.counters = Object.fromEntries(
        Object.entries(RATE_COUNTERS).map(([key, name]) => [key, sums[name] ?? 0]),
      ) as Counters;
      view.metrics = "ok";
    } else
      errors.push(`GET /metrics on port ${record.metricsPort}: status ${metrics.value.status}`);
  } else if (metrics.status === "rejected") reason(metrics);
  // A missing span buffer is not worth a line per poll: the page says traces are unavailable.
  if (spans.status === "fulfilled") view.spans = "ok";
  return { view, spans: spans.status === "fulfilled" ? spans.value : [] };
}

/** Every running app of the registry, probed at once; the traces merged across their sidecars. */
export async function collectSnapshot(
  registry: AppRegistry,
  options: SnapshotOptions,
): Promise<Snapshot> {
  const records = await registry.list();
  const at = Date.now();
  const probes = await Promise.all(records.map((r) => probe(r, options)));
  const spans = probes
    .flatMap((p) => p.spans)
    .filter((s) => !s.traceId.startsWith(DASHBOARD_TRACE_PREFIX));
  return {
    at,
    apps: probes.map((p) => p.view),
    traces: buildTraces(spans, options.traceLimit),
  };
}
