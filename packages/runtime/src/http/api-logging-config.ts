import type { ConfigurationResource } from "../resources/model.ts";

/** What `spec.logging.apiLogging` of the Configuration resources says, as the sidecar applies it. */
export interface ApiLoggingConfig {
  /** The default when `--enable-api-logging` is not given (daprd: the flag wins either way). */
  enabled: boolean;
  /** Log the route template (`/v1.0/state/:store/:key`) instead of the path, which may hold PII. */
  obfuscateURLs: boolean;
  /** Leave the health checks out of the API log. */
  omitHealthChecks: boolean;
}

function truthy(value: unknown): boolean {
  return value === true || value === "true";
}

/** Reads `spec.logging.apiLogging` of every Configuration; a later one overrides field by field. */
export function apiLoggingConfig(
  configurations: readonly ConfigurationResource[],
): ApiLoggingConfig {
  const out: ApiLoggingConfig = { enabled: false, obfuscateURLs: false, omitHealthChecks: false };
  for (const c of configurations) {
    const spec = c.spec?.logging?.apiLogging;
    if (!spec) continue;
    if (spec.enabled !== undefined) out.enabled = truthy(spec.enabled);
    if (spec.obfuscateURLs !== undefined) out.obfuscateURLs = truthy(spec.obfuscateURLs);
    if (spec.omitHealthChecks !== undefined) out.omitHealthChecks = truthy(spec.omitHealthChecks);
  }
  return out;
}
