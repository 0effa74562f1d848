import { parseDuration } from "@outrig/core";
import { appliedTimeoutPolicies } from "./resiliency.ts";
import type { Resources } from "./resources/model.ts";

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
export function unappliedSettings(resources: Resources): UnappliedSetting[] {
  const found: UnappliedSetting[] = [];
  for (const r of resources.resiliencies) {
    const at = { file: r.source.file, kind: "Resiliency", name: r.name };
    // Applied (resiliency.ts): app targets' timeouts and the timeout policies they name.
    const usedTimeouts = appliedTimeoutPolicies(r);
    for (const [group, entries] of Object.entries(r.spec.policies ?? {})) {
      for (const key of Object.keys(entries ?? {})) {
        if (group === "timeouts" && usedTimeouts.has(key)) continue;
        found.push({ ...at, field: `spec.policies.${group}.${key}` });
      }
    }
    for (const [group, entries] of Object.entries(r.spec.targets ?? {})) {
      for (const [key, ref] of Object.entries(entries ?? {})) {
        if (group !== "apps") {
          found.push({ ...at, field: `spec.targets.${group}.${key}` });
          continue;
        }
        for (const [policy, value] of Object.entries(ref ?? {})) {
          const resolved =
            policy === "timeout" &&
            (usedTimeouts.has(String(value)) || parseDuration(String(value)) !== undefined);
          if (!resolved) found.push({ ...at, field: `spec.targets.apps.${key}.${policy}` });
        }
      }
    }
  }
  for (const c of resources.configurations) {
    const at = { file: c.source.file, kind: "Configuration", name: c.name };
    // spec.metrics is read by metrics/metrics-config.ts, which names its own unapplied fields.
    if (c.spec?.tracing !== undefined) found.push({ ...at, field: "spec.tracing" });
  }
  return found;
}
