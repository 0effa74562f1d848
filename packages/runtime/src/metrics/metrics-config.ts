import type { ConfigurationResource } from "../resources/model.ts";

/** What the Configuration resources say about metrics, as the sidecar applies it. */
export interface MetricsConfig {
  /** `spec.metrics.enabled`; false turns the endpoint off as `--enable-metrics=false` does. */
  enabled: boolean;
  /** `spec.metrics.http.increasedCardinality`: the raw request path as the `path` label. */
  increasedCardinality: boolean;
  /** Fields found but not applied, for a warning each (file and field). */
  unapplied: { file: string; name: string; field: string }[];
}

const APPLIED = new Set(["enabled", "http.increasedCardinality"]);

/**
 * Reads `spec.metrics` (and the older `spec.metric`) of every Configuration: `enabled` and `http.increasedCardinality` are
 * applied; any other field (`rules`, `http.pathMatching`, `http.excludeVerbs`,
 * `recordErrorCodes`, `latencyDistributionBuckets`, ...) is listed so the sidecar warns by name.
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
  for (const { c, key: section, spec } of sections) {
    if (spec.enabled !== undefined)
      out.enabled = !(spec.enabled === false || spec.enabled === "false");
    const http = spec.http as Record<string, unknown> | undefined;
    if (http?.increasedCardinality === true || http?.increasedCardinality === "true")
      out.increasedCardinality = true;
    for (const [key, value] of Object.entries(spec)) {
      const fields =
        key === "http" && value && typeof value === "object"
          ? Object.keys(value).map((k) => `http.${k}`)
          : [key];
      for (const field of fields) {
        if (!APPLIED.has(field))
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
