import { parseDuration } from "@outrig/core";
import { appliedTimeoutPolicies } from "./resiliency/app-timeouts.ts";
import type { Resources } from "./resources/model.ts";

/** Dapr's default policy names that component outbound calls fall back to (policies.ts). */
const COMPONENT_DEFAULTS =
  /^Default(ComponentOutbound|ComponentInbound|Component)?(Timeout|Retry|CircuitBreaker)Policy$/;

/** Dapr's default policy names that service invocation falls back to (policies.ts `app`). */
const APP_DEFAULTS = /^Default(App)?(Retry|CircuitBreaker)Policy$/;

/** Configuration sections the runtime applies (or, for metrics, checks field by field). */
const APPLIED_CONFIGURATION = new Set(["features", "secrets", "metrics"]);

/** One setting of a loaded resource that the runtime does not apply (yet). */
export interface UnappliedSetting {
  file: string;
  kind: string;
  name: string;
  field: string;
}

/**
 * The Resiliency and tracing settings found in the resources that nothing applies yet,
 * so the sidecar can warn about each by file and field instead of accepting it silently.
 */
/** Whether the policy a target names exists in the same resource. */
function isDefined(r: Resources["resiliencies"][number], policy: string, name: string): boolean {
  const group =
    policy === "retry" ? "retries" : policy === "circuitBreaker" ? "circuitBreakers" : undefined;
  return group !== undefined && r.spec.policies?.[group]?.[name] !== undefined;
}

export function unappliedSettings(resources: Resources): UnappliedSetting[] {
  const found: UnappliedSetting[] = [];
  for (const r of resources.resiliencies) {
    const at = { file: r.source.file, kind: "Resiliency", name: r.name };
    // Applied: app targets' timeouts (app-timeouts.ts) and component targets, both directions,
    // with the policies they name or Dapr's component defaults (policies.ts).
    const used = appliedTimeoutPolicies(r);
    // Applied too: app targets' retry and circuit breaker (http/invoke.ts for HTTP apps,
    // grpc/app-invoke.ts for gRPC apps), where a retry's matching is read.
    const appRetries = new Set<string>();
    for (const ref of Object.values(r.spec.targets?.apps ?? {})) {
      if (ref.retry) appRetries.add(ref.retry);
      for (const name of [ref.retry, ref.circuitBreaker]) if (name) used.add(name);
    }
    for (const ref of Object.values(r.spec.targets?.components ?? {})) {
      for (const direction of [ref.outbound, ref.inbound]) {
        for (const name of [direction?.timeout, direction?.retry, direction?.circuitBreaker])
          if (name) used.add(name);
      }
    }
    for (const [group, entries] of Object.entries(r.spec.policies ?? {})) {
      for (const [key, value] of Object.entries(entries ?? {})) {
        if (used.has(key) || COMPONENT_DEFAULTS.test(key) || APP_DEFAULTS.test(key)) {
          const matching = (value as { matching?: Record<string, unknown> })?.matching;
          if (group !== "retries" || matching === undefined) continue;
          const forApps = appRetries.has(key) || APP_DEFAULTS.test(key);
          for (const field of Object.keys(matching))
            if (!(forApps && (field === "httpStatusCodes" || field === "gRPCStatusCodes")))
              found.push({ ...at, field: `spec.policies.retries.${key}.matching.${field}` });
          continue;
        }
        found.push({ ...at, field: `spec.policies.${group}.${key}` });
      }
    }
    for (const [group, entries] of Object.entries(r.spec.targets ?? {})) {
      for (const [key, ref] of Object.entries(entries ?? {})) {
        if (group === "components") continue;
        if (group !== "apps") {
          found.push({ ...at, field: `spec.targets.${group}.${key}` });
          continue;
        }
        for (const [policy, value] of Object.entries(ref ?? {})) {
          const resolved =
            policy === "timeout"
              ? used.has(String(value)) || parseDuration(String(value)) !== undefined
              : used.has(String(value)) &&
                r.spec.policies !== undefined &&
                isDefined(r, policy, String(value));
          if (!resolved) found.push({ ...at, field: `spec.targets.apps.${key}.${policy}` });
        }
      }
    }
  }
  for (const c of resources.configurations) {
    const at = { file: c.source.file, kind: "Configuration", name: c.name };
    // Applied: features (listed in the metadata API), secrets.scopes (api/secrets.ts); metrics is
    // read by metrics/metrics-config.ts, which names its own unapplied fields. Every other
    // section (tracing, logging, accessControl, api, nameResolution, httpPipeline, mtls, ...) is
    // accepted by the schema and so warned about here, by name.
    for (const key of Object.keys(c.spec ?? {})) {
      if (!APPLIED_CONFIGURATION.has(key)) found.push({ ...at, field: `spec.${key}` });
    }
  }
  return found;
}
