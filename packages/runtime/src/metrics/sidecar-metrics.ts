import { collectDefaultMetrics, Registry } from "prom-client";
import {
  BoundedCache,
  type CounterSeries,
  FastCounter,
  FastHistogram,
  type HistogramSeries,
  type Labels,
} from "./fast-metrics.ts";
import type { MetricRule } from "./metrics-config.ts";

/** daprd's latency buckets in milliseconds (pkg/diagnostics defaultLatencyDistribution). */
const LATENCY_MS = [
  1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400,
  500, 650, 800, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
];
/** daprd's size buckets in bytes (defaultSizeDistribution). */
const SIZE_BYTES = [
  1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456,
  1073741824, 4294967296,
];

/** A metric's name as daprd keys its rules: without `dapr_`, `_` and `/` alike (`http/server/...`). */
const ruleKey = (name: string): string => name.replace("dapr_", "").replaceAll("_", "/");

/** The label rewrite of one metric's rules, or undefined when no rule names it. */
function relabeller(
  rules: readonly MetricRule[],
  name: string,
): ((l: Labels) => Labels) | undefined {
  const key = ruleKey(name);
  const labels = rules.filter((r) => ruleKey(r.name) === key).flatMap((r) => r.labels);
  if (labels.length === 0) return undefined;
  return (l) => {
    const out = { ...l };
    for (const { name: label, replacements } of labels) {
      let value = out[label];
      if (typeof value !== "string" || value === "") continue;
      for (const { regex, replacement } of replacements) value = value.replace(regex, replacement);
      out[label] = value;
    }
    return out;
  };
}

/** daprd's error code categories (pkg/messages/errorcodes), by the code's prefix. */
const CATEGORIES: readonly [RegExp, string][] = [
  [/^ERR_ACTOR_/, "actor"],
  [/WORKFLOW|^ERR_INSTANCE_ID_/, "workflow"],
  [/^ERR_(NOT_SUPPORTED_)?STATE_/, "state"],
  [/^ERR_CONFIGURATION_/, "configuration"],
  [/^ERR_CRYPTO/, "crypto"],
  [/^ERR_SECRET|^ERR_PERMISSION_DENIED$/, "secret"],
  [/^ERR_(PUBSUB_|TOPIC_|PUBLISH_)/, "pubsub"],
  [/^ERR_CONVERSATION_/, "conversation"],
  [/^ERR_DIRECT_INVOKE/, "service-invocation"],
  [/BINDING/, "binding"],
  [/^ERR_(LOCK_|TRY_LOCK|UNLOCK)/, "lock"],
  [/^DAPR_SCHEDULER_|^ERR_JOB/, "job"],
  [/HEALTH/, "health"],
];

/** The category `dapr_error_code_total` files an error code under; `common` for the rest. */
export function errorCategory(code: string): string {
  return CATEGORIES.find(([re]) => re.test(code))?.[1] ?? "common";
}

/** How a pub/sub delivery to the app ended, as daprd's `process_status` label names it. */
export type IngressStatus = "success" | "retry" | "drop";

/** A component operation's kind, as its metric names it (`dapr_component_<kind>_count`). */
export type OperationKind = "state" | "output_binding" | "secret" | "configuration" | "crypto";

/** Records one outcome of a component operation whose labels are fixed. */
export type OperationRecorder = (success: boolean, ms: number) => void;

/** The series one HTTP API request records into, found once per method, status and path. */
interface HttpServerSeries {
  requests: CounterSeries;
  responses: CounterSeries;
  latency: HistogramSeries;
  requestBytes: HistogramSeries;
  responseBytes: HistogramSeries;
}

interface HttpClientSeries {
  completed: CounterSeries;
  latency: HistogramSeries;
  sent: HistogramSeries;
  received: HistogramSeries;
}

interface OperationSeries {
  count: CounterSeries;
  latency: HistogramSeries;
}

/**
 * How often the event loop's delay is sampled for `nodejs_eventloop_lag_*`. prom-client's default
 * (10 ms) wakes an idle sidecar 100 times a second, 8 ms of CPU a second measured here: 8 µs a
 * request at 1000 req/s. At 100 ms a stall that long always shows and shorter ones are sampled,
 * for about 1 ms of CPU a second.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The sidecar's Prometheus metrics, with daprd's names, labels and buckets, in a registry of its
 * own (several sidecars may share a process in tests and library mode). Every method is cheap:
 * the hot ones find their series by one string key and add to plain numbers (fast-metrics.ts);
 * rules, excluded verbs and path matching apply when a series is first made.
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  readonly #appId: string;
  readonly #namespace: string;

  readonly #httpRequests: FastCounter<"app_id" | "method" | "path">;
  readonly #httpResponses: FastCounter<"app_id" | "method" | "path" | "status">;
  readonly #httpLatency: FastHistogram<"app_id" | "method" | "path" | "status">;
  readonly #httpRequestBytes: FastHistogram<"app_id">;
  readonly #httpResponseBytes: FastHistogram<"app_id">;
  readonly #clientCompleted: FastCounter<"app_id" | "method" | "path" | "status">;
  readonly #clientLatency: FastHistogram<"app_id" | "method" | "path" | "status">;
  readonly #clientSent: FastHistogram<"app_id" | "method" | "path" | "status">;
  readonly #clientReceived: FastHistogram<"app_id">;
  readonly #grpcCompleted: FastCounter<"app_id" | "grpc_server_method" | "grpc_server_status">;
  readonly #grpcLatency: FastHistogram<"app_id" | "grpc_server_method" | "grpc_server_status">;
  readonly #componentLoaded: FastCounter<"app_id" | "success">;
  readonly #componentInit: FastCounter<"app_id" | "component">;
  readonly #componentInitFail: FastCounter<"app_id" | "component" | "reason">;
  readonly #resiliencyLoaded: FastCounter<"app_id" | "name" | "namespace">;
  readonly #resiliencyActivations: FastCounter<string>;
  readonly #operation = new Map<
    string,
    { count: FastCounter<string>; latency: FastHistogram<string> }
  >();
  readonly #egressCount: FastCounter<string>;
  readonly #egressLatency: FastHistogram<string>;
  readonly #ingressCount: FastCounter<string>;
  readonly #ingressLatency: FastHistogram<string>;
  readonly #inputCount: FastCounter<string>;
  readonly #inputLatency: FastHistogram<string>;
  readonly #errorCodes: FastCounter<"app_id" | "category" | "error_code"> | undefined;
  readonly #excludeVerbs: boolean;
  readonly #pathLabel: ((path: string) => string | undefined) | undefined;
  // Keyed by raw values, so bounded (an unrouted path is "", a raw one is only kept so long).
  readonly #httpServerSeries = new BoundedCache<Map<number, Map<string, HttpServerSeries>>>();
  readonly #httpClientSeries = new BoundedCache<HttpClientSeries>();
  readonly #operationSeries = new BoundedCache<OperationSeries>();

  /**
   * `latencyBuckets` replaces daprd's latency buckets in every latency histogram, as the
   * Configuration's `metrics.latencyDistributionBuckets` does; size histograms keep theirs.
   */
  constructor(
    appId: string,
    namespace = "",
    options: {
      latencyBuckets?: number[];
      /** `spec.metrics.rules`: applied to the metrics they name, and only to those. */
      rules?: readonly MetricRule[];
      /** `spec.metrics.recordErrorCodes`: exports `dapr_error_code_total`. */
      recordErrorCodes?: boolean;
      /** `spec.metrics.http.excludeVerbs`: the HTTP metrics' `method` label is empty. */
      excludeVerbs?: boolean;
      /** `spec.metrics.http.pathMatching`, compiled (path-matching.ts). */
      pathLabel?: (path: string) => string | undefined;
    } = {},
  ) {
    this.#appId = appId;
    this.#namespace = namespace;
    this.#excludeVerbs = options.excludeVerbs ?? false;
    this.#pathLabel = options.pathLabel;
    const rules = options.rules ?? [];
    const registers = [this.registry];
    // daprd exports the Go runtime and process collectors; Node's equivalents are process_* and
    // nodejs_* (event loop lag, heap), which answer the same questions.
    collectDefaultMetrics({
      register: this.registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
    });
    // A metric some rule names rewrites the labels of each series it makes.
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new FastCounter<L>({ name, help, labelNames, registers }, relabeller(rules, name));
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      buckets = options.latencyBuckets ?? LATENCY_MS,
    ) =>
      new FastHistogram<L>({ name, help, labelNames, buckets, registers }, relabeller(rules, name));
    // daprd's view `error_code/total`, exported as dapr_error_code_total.
    this.#errorCodes = options.recordErrorCodes
      ? counter(
          "dapr_error_code_total",
          "Total number of times an error with a specific error code was encountered.",
          ["app_id", "category", "error_code"],
        )
      : undefined;

    const route = ["app_id", "method", "path"] as const;
    const routed = [...route, "status"] as ("app_id" | "method" | "path" | "status")[];
    this.#httpRequests = counter(
      "dapr_http_server_request_count",
      "Number of HTTP requests started in server.",
      [...route],
    );
    this.#httpResponses = counter(
      "dapr_http_server_response_count",
      "The number of HTTP responses.",
      routed,
    );
    this.#httpLatency = histogram(
      "dapr_http_server_latency",
      "HTTP request end to end latency in server, in milliseconds.",
      routed,
    );
    this.#httpRequestBytes = histogram(
      "dapr_http_server_request_bytes",
      "HTTP request body size if set as ContentLength (uncompressed) in server.",
      ["app_id"],
      SIZE_BYTES,
    );
    this.#httpResponseBytes = histogram(
      "dapr_http_server_response_bytes",
      "HTTP response body size (uncompressed) in server.",
      ["app_id"],
      SIZE_BYTES,
    );
    this.#clientCompleted = counter(
      "dapr_http_client_completed_count",
      "Count of completed requests to the app.",
      routed,
    );
    this.#clientLatency = histogram(
      "dapr_http_client_roundtrip_latency",
      "End-to-end latency of requests to the app, in milliseconds.",
      routed,
    );
    this.#clientSent = histogram(
      "dapr_http_client_sent_bytes",
      "Total bytes sent in request body (not including headers).",
      routed,
      SIZE_BYTES,
    );
    this.#clientReceived = histogram(
      "dapr_http_client_received_bytes",
      "Total bytes received in response bodies (not including headers but including error responses with bodies).",
      ["app_id"],
      SIZE_BYTES,
    );
    const grpcLabels = ["app_id", "grpc_server_method", "grpc_server_status"] as (
      | "app_id"
      | "grpc_server_method"
      | "grpc_server_status"
    )[];
    this.#grpcCompleted = counter(
      "dapr_grpc_io_server_completed_rpcs",
      "Count of RPCs by method and status.",
      grpcLabels,
    );
    this.#grpcLatency = histogram(
      "dapr_grpc_io_server_server_latency",
      "Distribution of server latency in milliseconds, by method.",
      grpcLabels,
    );
    this.#componentLoaded = counter(
      "dapr_runtime_component_loaded",
      "The number of successfully loaded components.",
      ["app_id", "success"],
    );
    this.#componentInit = counter(
      "dapr_runtime_component_init_total",
      "The number of initialized components.",
      ["app_id", "component"],
    );
    this.#componentInitFail = counter(
      "dapr_runtime_component_init_fail_total",
      "The number of component initialization failures.",
      ["app_id", "component", "reason"],
    );
    this.#resiliencyLoaded = counter(
      "dapr_resiliency_loaded",
      "The number of resiliency policies loaded.",
      ["app_id", "name", "namespace"],
    );
    this.#resiliencyActivations = counter(
      "dapr_resiliency_activations_total",
      "Number of times a resiliency policy has been activated in a building block after a failure or after a state change.",
      ["app_id", "name", "namespace", "policy", "flow_direction", "target", "status"],
    );
    const component = ["app_id", "component", "namespace"];
    for (const kind of ["state", "output_binding", "secret", "configuration", "crypto"]) {
      this.#operation.set(kind, {
        count: counter(
          `dapr_component_${kind}_count`,
          `The number of operations performed on the ${kind.replace("_", " ")} component.`,
          [...component, "operation", "success"],
        ),
        latency: histogram(
          `dapr_component_${kind}_latencies`,
          `The latency of the response from the ${kind.replace("_", " ")} component, in milliseconds.`,
          [...component, "operation", "success"],
        ),
      });
    }
    this.#egressCount = counter(
      "dapr_component_pubsub_egress_count",
      "The number of outgoing messages published to the pub/sub component.",
      [...component, "success", "topic"],
    );
    this.#egressLatency = histogram(
      "dapr_component_pubsub_egress_latencies",
      "The latency of the response from the pub/sub component, in milliseconds.",
      [...component, "success", "topic"],
    );
    this.#ingressCount = counter(
      "dapr_component_pubsub_ingress_count",
      "The number of incoming messages arriving from the pub/sub component.",
      [...component, "process_status", "topic", "status"],
    );
    this.#ingressLatency = histogram(
      "dapr_component_pubsub_ingress_latencies",
      "The consuming app event processing latency, in milliseconds.",
      [...component, "process_status", "topic", "status"],
    );
    this.#inputCount = counter(
      "dapr_component_input_binding_count",
      "The number of incoming events arriving from the input binding component.",
      [...component, "success"],
    );
    this.#inputLatency = histogram(
      "dapr_component_input_binding_latencies",
      "The triggered app event processing latency, in milliseconds.",
      [...component, "success"],
    );
  }

  /** A request to the HTTP API; `path` is the route template unless increased cardinality is on. */
  httpServer(
    method: string,
    path: string,
    status: number,
    ms: number,
    requestBytes: number,
    responseBytes: number,
  ): void {
    if (this.#excludeVerbs) method = "";
    // By path, then status, then method: a request builds no key string to look its series up.
    let byStatus = this.#httpServerSeries.get(path);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.#httpServerSeries.set(path, byStatus);
    }
    let byMethod = byStatus.get(status);
    if (byMethod === undefined) {
      byMethod = new Map();
      byStatus.set(status, byMethod);
    }
    let s = byMethod.get(method);
    if (s === undefined) {
      const app_id = this.#appId;
      const code = String(status);
      s = {
        requests: this.#httpRequests.series(app_id, method, path),
        responses: this.#httpResponses.series(app_id, method, path, code),
        latency: this.#httpLatency.series(app_id, method, path, code),
        requestBytes: this.#httpRequestBytes.series(app_id),
        responseBytes: this.#httpResponseBytes.series(app_id),
      };
      byMethod.set(method, s);
    }
    s.requests.inc();
    s.responses.inc();
    s.latency.observe(ms);
    s.requestBytes.observe(requestBytes);
    s.responseBytes.observe(responseBytes);
  }

  /** A request the sidecar made to the app over HTTP. */
  httpClient(
    method: string,
    path: string,
    status: number,
    ms: number,
    sentBytes: number,
    receivedBytes: number,
  ): void {
    // Keyed by the raw path: path matching runs once per path, not per call.
    const key = `${method} ${status} ${path}`;
    let s = this.#httpClientSeries.get(key);
    if (s === undefined) {
      const app_id = this.#appId;
      const verb = this.#excludeVerbs ? "" : method;
      const label = this.#pathLabel?.(path) ?? path;
      const code = String(status);
      s = {
        completed: this.#clientCompleted.series(app_id, verb, label, code),
        latency: this.#clientLatency.series(app_id, verb, label, code),
        sent: this.#clientSent.series(app_id, verb, label, code),
        received: this.#clientReceived.series(app_id),
      };
      this.#httpClientSeries.set(key, s);
    }
    s.completed.inc();
    s.latency.observe(ms);
    s.sent.observe(sentBytes);
    s.received.observe(receivedBytes);
  }

  /** The `path` label pathMatching gives a request path, if any (undefined: no pattern decides). */
  pathLabel(path: string): string | undefined {
    return this.#pathLabel?.(path);
  }

  /** An API answer with a Dapr error code, when `recordErrorCodes` is on (else nothing). */
  errorCode(code: string): void {
    this.#errorCodes?.inc({ app_id: this.#appId, category: errorCategory(code), error_code: code });
  }

  /** Whether error codes are counted, so callers skip finding them otherwise. */
  get recordsErrorCodes(): boolean {
    return this.#errorCodes !== undefined;
  }

  /** A call of the gRPC API; `method` is the full `/package.Service/Method`, status its code name. */
  grpcServer(method: string, status: string, ms: number): void {
    const labels = { app_id: this.#appId, grpc_server_method: method, grpc_server_status: status };
    this.#grpcCompleted.inc(labels);
    this.#grpcLatency.observe(labels, ms);
  }

  componentLoaded(component: string): void {
    this.#componentLoaded.inc({ app_id: this.#appId, success: "true" });
    this.#componentInit.inc({ app_id: this.#appId, component });
  }

  componentInitFailed(component: string, reason: string): void {
    this.#componentLoaded.inc({ app_id: this.#appId, success: "false" });
    this.#componentInitFail.inc({ app_id: this.#appId, component, reason });
  }

  resiliencyLoaded(name: string): void {
    this.#resiliencyLoaded.inc({ app_id: this.#appId, name, namespace: this.#namespace });
  }

  /**
   * Resiliency `name`'s `policy` acted on `target`: a timeout fired, a retry is made, or a
   * breaker changed state to `status`. Only actor targets report so far, all outbound (calls
   * from the sidecar into the app), as daprd labels them.
   */
  resiliencyActivated(
    name: string,
    policy: "timeout" | "retry" | "circuitbreaker",
    target: string,
    status = "",
  ): void {
    this.#resiliencyActivations.inc({
      app_id: this.#appId,
      name,
      namespace: this.#namespace,
      policy,
      flow_direction: "outbound",
      target,
      status,
    });
  }

  /** One call of a component operation (`state`, `output_binding`, `secret`, ...). */
  operation(
    kind: OperationKind,
    component: string,
    operation: string,
    success: boolean,
    ms: number,
  ): void {
    const key = `${kind}\u0000${component}\u0000${operation}\u0000${success}`;
    let s = this.#operationSeries.get(key);
    if (s === undefined) {
      s = this.#makeOperationSeries(kind, component, operation, success);
      if (!s) return;
      this.#operationSeries.set(key, s);
    }
    s.count.inc();
    s.latency.observe(ms);
  }

  /**
   * `operation` with its labels fixed, for a caller that knows them ahead (a wrapped component
   * method): each outcome's series is found on its first record, so none shows before it.
   */
  operationRecorder(kind: OperationKind, component: string, operation: string): OperationRecorder {
    let ok: OperationSeries | undefined;
    let failed: OperationSeries | undefined;
    return (success, ms) => {
      let s = success ? ok : failed;
      if (s === undefined) {
        s = this.#makeOperationSeries(kind, component, operation, success);
        if (!s) return;
        if (success) ok = s;
        else failed = s;
      }
      s.count.inc();
      s.latency.observe(ms);
    };
  }

  #makeOperationSeries(
    kind: OperationKind,
    component: string,
    operation: string,
    success: boolean,
  ): OperationSeries | undefined {
    const m = this.#operation.get(kind);
    if (!m) return undefined;
    const values = [this.#appId, component, this.#namespace, operation, String(success)];
    return { count: m.count.series(...values), latency: m.latency.series(...values) };
  }

  pubsubEgress(component: string, topic: string, success: boolean, ms: number): void {
    const labels = {
      app_id: this.#appId,
      component,
      namespace: this.#namespace,
      success: String(success),
      topic,
    };
    this.#egressCount.inc(labels);
    this.#egressLatency.observe(labels, ms);
  }

  pubsubIngress(component: string, topic: string, status: IngressStatus, ms: number): void {
    const labels = {
      app_id: this.#appId,
      component,
      namespace: this.#namespace,
      process_status: status,
      topic,
      status,
    };
    this.#ingressCount.inc(labels);
    this.#ingressLatency.observe(labels, ms);
  }

  inputBinding(component: string, success: boolean, ms: number): void {
    const labels = {
      app_id: this.#appId,
      component,
      namespace: this.#namespace,
      success: String(success),
    };
    this.#inputCount.inc(labels);
    this.#inputLatency.observe(labels, ms);
  }
}
