import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
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

type Labels = Record<string, string | number>;

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

/**
 * The sidecar's Prometheus metrics, with daprd's names, labels and buckets, in a registry of its
 * own (several sidecars may share a process in tests and library mode). Every method is cheap:
 * a label lookup and an increment.
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  readonly #appId: string;
  readonly #namespace: string;

  readonly #httpRequests: Counter<"app_id" | "method" | "path">;
  readonly #httpResponses: Counter<"app_id" | "method" | "path" | "status">;
  readonly #httpLatency: Histogram<"app_id" | "method" | "path" | "status">;
  readonly #httpRequestBytes: Histogram<"app_id">;
  readonly #httpResponseBytes: Histogram<"app_id">;
  readonly #clientCompleted: Counter<"app_id" | "method" | "path" | "status">;
  readonly #clientLatency: Histogram<"app_id" | "method" | "path" | "status">;
  readonly #clientSent: Histogram<"app_id" | "method" | "path" | "status">;
  readonly #clientReceived: Histogram<"app_id">;
  readonly #grpcCompleted: Counter<"app_id" | "grpc_server_method" | "grpc_server_status">;
  readonly #grpcLatency: Histogram<"app_id" | "grpc_server_method" | "grpc_server_status">;
  readonly #componentLoaded: Counter<"app_id" | "success">;
  readonly #componentInit: Counter<"app_id" | "component">;
  readonly #componentInitFail: Counter<"app_id" | "component" | "reason">;
  readonly #resiliencyLoaded: Counter<"app_id" | "name" | "namespace">;
  readonly #resiliencyActivations: Counter<string>;
  readonly #operation = new Map<string, { count: Counter<string>; latency: Histogram<string> }>();
  readonly #egressCount: Counter<string>;
  readonly #egressLatency: Histogram<string>;
  readonly #ingressCount: Counter<string>;
  readonly #ingressLatency: Histogram<string>;
  readonly #inputCount: Counter<string>;
  readonly #inputLatency: Histogram<string>;
  readonly #errorCodes: Counter<"app_id" | "category" | "error_code"> | undefined;
  readonly #excludeVerbs: boolean;
  readonly #pathLabel: ((path: string) => string | undefined) | undefined;

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
    collectDefaultMetrics({ register: this.registry });
    // A metric some rule names rewrites its labels on each record; every other one is untouched.
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) => {
      const c = new Counter<L>({ name, help, labelNames, registers });
      const relabel = relabeller(rules, name);
      if (relabel) {
        const inc = c.inc.bind(c) as (labels: Labels, value?: number) => void;
        c.inc = ((labels: Labels, value?: number) => inc(relabel(labels), value)) as typeof c.inc;
      }
      return c;
    };
    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      buckets = options.latencyBuckets ?? LATENCY_MS,
    ) => {
      const h = new Histogram<L>({ name, help, labelNames, buckets, registers });
      const relabel = relabeller(rules, name);
      if (relabel) {
        const observe = h.observe.bind(h) as unknown as (labels: Labels, value: number) => void;
        h.observe = ((labels: Labels, value: number) =>
          observe(relabel(labels), value)) as unknown as typeof h.observe;
      }
      return h;
    };
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
    const app_id = this.#appId;
    if (this.#excludeVerbs) method = "";
    this.#httpRequests.inc({ app_id, method, path });
    const labels = { app_id, method, path, status: String(status) };
    this.#httpResponses.inc(labels);
    this.#httpLatency.observe(labels, ms);
    this.#httpRequestBytes.observe({ app_id }, requestBytes);
    this.#httpResponseBytes.observe({ app_id }, responseBytes);
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
    const labels = {
      app_id: this.#appId,
      method: this.#excludeVerbs ? "" : method,
      path: this.#pathLabel?.(path) ?? path,
      status: String(status),
    };
    this.#clientCompleted.inc(labels);
    this.#clientLatency.observe(labels, ms);
    this.#clientSent.observe(labels, sentBytes);
    this.#clientReceived.observe({ app_id: this.#appId }, receivedBytes);
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
    kind: "state" | "output_binding" | "secret" | "configuration" | "crypto",
    component: string,
    operation: string,
    success: boolean,
    ms: number,
  ): void {
    const m = this.#operation.get(kind);
    if (!m) return;
    const labels = {
      app_id: this.#appId,
      component,
      namespace: this.#namespace,
      operation,
      success: String(success),
    };
    m.count.inc(labels);
    m.latency.observe(labels, ms);
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
