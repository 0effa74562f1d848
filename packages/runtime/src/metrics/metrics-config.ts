import type { ConfigurationResource } from "../resources/model.ts";

/** What the Configuration resources say about metrics, as the sidecar applies it. */
export interface MetricsConfig {
  /** `spec.metrics.enabled`; false turns the endpoint off as `--enable-metrics=false` does. */
  enabled: boolean;
  /** `spec.metrics.http.increasedCardinality`: the raw request path as the `path` label. */
  increasedCardinality: boolean;
  /** `spec.metrics.latencyDistributionBuckets`: the latency histograms' bounds, in ms. */
  latencyBuckets?: number[];
  /** Fields found but not applied, for a warning each (file and field). */
  unapplied: { file: string; name: string; field: string }[];
}

const APPLIED = new Set(["enabled", "http.increasedCardinality", "latencyDistributionBuckets"]);

/**
 * Reads `spec.metrics` (and the older `spec.metric`) of every Configuration: `enabled`,
 * `http.increasedCardinality` and `latencyDistributionBuckets` are applied; any other field
 * (`rules`, `http.pathMatching`, `http.excludeVerbs`, `recordErrorCodes`, ...), and buckets that
 * are not positive integers, are listed so the sidecar warns by name.
 */
export function metricsConfig(configurations: readonly ConfigurationResource[]): MetricsConfig {
  const out: MetricsConfig = { enabled: true, increasedCardinality: false, unapplied: [] };
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
    if (http?.increasedCardinality === true || http?.increasedCardinality === "true")
      out.increasedCardinality = true;
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
