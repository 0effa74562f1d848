import type { ConfigurationResource } from "../resources/model.ts";

/** What the Configuration resources say about metrics, as the sidecar applies it. */
export interface MetricsConfig {
  /** `spec.metrics.enabled`; false turns the endpoint off as `--enable-metrics=false` does. */
  enabled: boolean;
  /** `spec.metrics.http.increasedCardinality`: the raw request path as the `path` label. */
  increasedCardinality: boolean;
  /** `spec.metrics.latencyDistributionBuckets`: the latency histograms' bounds, in ms. */
  latencyBuckets?: number[];
  /** `spec.metrics.rules`: label values rewritten by regular expressions, per metric. */
  rules: MetricRule[];
  /** `spec.metrics.http.pathMatching`: path templates used as the `path` label. */
  pathMatching: string[];
  /** `spec.metrics.http.excludeVerbs`: the `method` label of the HTTP metrics left empty. */
  excludeVerbs: boolean;
  /** `spec.metrics.recordErrorCodes`: `dapr_error_code_total` counts every API error code. */
  recordErrorCodes: boolean;
  /** Fields found but not applied, for a warning each (file and field). */
  unapplied: { file: string; name: string; field: string }[];
}

/** One `spec.metrics.rules` entry: for label `label` of metric `name`, each regex's matches become its key. */
export interface MetricRule {
  name: string;
  labels: { name: string; replacements: { regex: RegExp; replacement: string }[] }[];
}

/** A `spec.metrics.rules` regex that does not compile: daprd refuses to start on it too. */
export class MetricsConfigError extends Error {
  override name = "MetricsConfigError";
}

const APPLIED = new Set([
  "enabled",
  "http.increasedCardinality",
  "http.pathMatching",
  "http.excludeVerbs",
  "latencyDistributionBuckets",
  "rules",
  "recordErrorCodes",
]);

const truthy = (v: unknown): boolean => v === true || v === "true";

/** `spec.metrics.rules`, compiled once; a malformed entry names its place, as a start-up error. */
function compileRules(file: string, where: string, raw: unknown): MetricRule[] {
  if (!Array.isArray(raw)) throw new MetricsConfigError(`${file}: ${where} must be a list`);
  return raw.map((rule: unknown, i) => {
    const r = (rule ?? {}) as { name?: unknown; labels?: unknown };
    if (typeof r.name !== "string" || !Array.isArray(r.labels))
      throw new MetricsConfigError(`${file}: ${where}[${i}] needs a name and a list of labels`);
    return {
      name: r.name,
      labels: r.labels.map((label: unknown, j) => {
        const l = (label ?? {}) as { name?: unknown; regex?: unknown };
        if (typeof l.name !== "string" || !l.regex || typeof l.regex !== "object")
          throw new MetricsConfigError(
            `${file}: ${where}[${i}].labels[${j}] needs a name and a regex map`,
          );
        return {
          name: l.name,
          replacements: Object.entries(l.regex as Record<string, unknown>).map(([to, from]) => {
            try {
              // Go's ReplaceAllString: every match is replaced, not only a whole value.
              return { regex: new RegExp(String(from), "g"), replacement: to };
            } catch (error) {
              throw new MetricsConfigError(
                `${file}: ${where}[${i}].labels[${j}].regex "${to}": ${(error as Error).message}`,
              );
            }
          }),
        };
      }),
    };
  });
}

/**
 * Reads `spec.metrics` (and the older `spec.metric`) of every Configuration: `enabled`, `rules`,
 * `recordErrorCodes`, `latencyDistributionBuckets` and `http.increasedCardinality` /
 * `pathMatching` / `excludeVerbs` are applied; any other field, buckets that are not positive
 * integers and a pathMatching that is not a list of strings are listed so the sidecar warns by
 * name. A rule's regex that does not compile fails the start (MetricsConfigError), as in daprd.
 */
export function metricsConfig(configurations: readonly ConfigurationResource[]): MetricsConfig {
  const out: MetricsConfig = {
    enabled: true,
    increasedCardinality: false,
    rules: [],
    pathMatching: [],
    excludeVerbs: false,
    recordErrorCodes: false,
    unapplied: [],
  };
  // daprd reads the older `spec.metric` too; `spec.metrics` beside it wins, field by field.
  const sections = configurations.flatMap((c) =>
    (["metric", "metrics"] as const).flatMap((key) => {
      const spec = (c.spec as Record<string, unknown> | undefined)?.[key];
      return spec && typeof spec === "object"
        ? [{ c, key, spec: spec as Record<string, unknown> }]
        : [];
    }),
  );
  const bad = new Set<string>();
  for (const { c, key: section, spec } of sections) {
    if (spec.enabled !== undefined)
      out.enabled = !(spec.enabled === false || spec.enabled === "false");
    const http = spec.http as Record<string, unknown> | undefined;
    if (truthy(http?.increasedCardinality)) out.increasedCardinality = true;
    if (http?.excludeVerbs !== undefined) out.excludeVerbs = truthy(http.excludeVerbs);
    if (spec.recordErrorCodes !== undefined) out.recordErrorCodes = truthy(spec.recordErrorCodes);
    if (http?.pathMatching !== undefined) {
      if (Array.isArray(http.pathMatching) && http.pathMatching.every((p) => typeof p === "string"))
        out.pathMatching = http.pathMatching as string[];
      else bad.add(`${section}.http.pathMatching`);
    }
    if (spec.rules !== undefined)
      out.rules = compileRules(c.source.file, `spec.${section}.rules`, spec.rules);
    const buckets = spec.latencyDistributionBuckets;
    if (Array.isArray(buckets) && buckets.length > 0) {
      const bounds = buckets.map(Number);
      // daprd reads them as integers; anything else is named by the warning below instead.
      if (bounds.every((b) => Number.isInteger(b) && b > 0))
        out.latencyBuckets = [...new Set(bounds)].sort((a, b) => a - b);
      else bad.add(`${section}.latencyDistributionBuckets`);
    }
    for (const [key, value] of Object.entries(spec)) {
      const fields =
        key === "http" && value && typeof value === "object"
          ? Object.keys(value).map((k) => `http.${k}`)
          : [key];
      for (const field of fields) {
        if (!APPLIED.has(field) || bad.has(`${section}.${field}`))
          out.unapplied.push({
            file: c.source.file,
            name: c.name,
            field: `spec.${section}.${field}`,
          });
      }
    }
  }
  return out;
}
