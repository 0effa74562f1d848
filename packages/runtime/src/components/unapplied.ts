import { parseDuration } from "@outrig/core";
import { appliedTimeoutPolicies } from "../resiliency/app-timeouts.ts";
import type { Resources } from "../resources/model.ts";

/** Dapr's default policy names that component outbound calls fall back to (policies.ts). */
const COMPONENT_DEFAULTS =
  /^Default(ComponentOutbound|ComponentInbound|Component)?(Timeout|Retry|CircuitBreaker)Policy$/;

/** Dapr's default policy names that service invocation falls back to (policies.ts `app`). */
const APP_DEFAULTS = /^Default(App)?(Retry|CircuitBreaker)Policy$/;

/** Dapr's default policy names that actor calls into the app fall back to (policies.ts `actor`). */
const ACTOR_DEFAULTS = /^Default(Actor)?(Timeout|Retry|CircuitBreaker)Policy$/;

/**
 * Configuration sections the runtime applies (or, for metrics and tracing, checks field by field;
 * for features, feature by feature).
 */
const APPLIED_CONFIGURATION = new Set([
  "api",
  "features",
  "secrets",
  "metric",
  "metrics",
  "tracing",
  "logging",
  "components",
  "workflow",
]);

/**
 * The preview features outrig acts on, with the values it honours: HotReload either way
 * (hot-reloader.ts), ActorStateTTL either way (actors/state.ts), SchedulerReminders only on, as
 * reminders always live in the scheduler. Any other feature is listed in the metadata API only.
 */
const APPLIED_FEATURES: Record<string, (enabled: boolean) => boolean> = {
  HotReload: () => true,
  ActorStateTTL: () => true,
  SchedulerReminders: (enabled) => enabled,
};

/** One setting of a loaded resource that the runtime does not apply (yet). */
export interface UnappliedSetting {
  file: string;
  kind: string;
  name: string;
  field: string;
  /** What the field holds, when its path alone does not say (a feature's name). */
  value?: string;
}

/**
 * The Resiliency and Configuration settings found in the resources that nothing applies yet,
 * so the sidecar can warn about each by file and field instead of accepting it silently.
 */
/** The policies group a target's field names: `retry` → `retries`, and so on. */
const GROUP_OF = {
  timeout: "timeouts",
  retry: "retries",
  circuitBreaker: "circuitBreakers",
} as const;

/** Whether the policy a target names exists in the same resource. */
function isDefined(r: Resources["resiliencies"][number], policy: string, name: string): boolean {
  const group = GROUP_OF[policy as keyof typeof GROUP_OF];
  return group !== undefined && r.spec.policies?.[group]?.[name] !== undefined;
}

export function unappliedSettings(resources: Resources): UnappliedSetting[] {
  const found: UnappliedSetting[] = [];
  for (const r of [...resources.resiliencies, ...resources.configurations]) {
    // Fields no schema knows (a typo, a field of a newer Dapr): dropped by parsing, named here.
    for (const field of r.unknownFields ?? [])
      found.push({ file: r.source.file, kind: r.kind, name: r.name, field });
  }
  for (const r of resources.resiliencies) {
    const at = { file: r.source.file, kind: "Resiliency", name: r.name };
    // Applied: app targets' timeouts (app-timeouts.ts) and component targets, both directions,
    // with the policies they name or Dapr's component defaults (policies.ts).
    // A policy is known by its group and name ("retries/important"): a timeout and a retry may
    // share a name while only one of them is used.
    const used = new Set([...appliedTimeoutPolicies(r)].map((name) => `timeouts/${name}`));
    const use = (
      ref: { retry?: string; circuitBreaker?: string; timeout?: string } | undefined,
    ) => {
      if (ref?.timeout) used.add(`timeouts/${ref.timeout}`);
      if (ref?.retry) used.add(`retries/${ref.retry}`);
      if (ref?.circuitBreaker) used.add(`circuitBreakers/${ref.circuitBreaker}`);
    };
    // Applied too: app targets' retry and circuit breaker (http/invoke.ts for HTTP apps,
    // grpc/app-invoke.ts for gRPC apps), where a retry's matching is read.
    const appRetries = new Set<string>();
    for (const ref of Object.values(r.spec.targets?.apps ?? {})) {
      if (ref.retry) appRetries.add(ref.retry);
      use({ retry: ref.retry, circuitBreaker: ref.circuitBreaker });
    }
    for (const ref of Object.values(r.spec.targets?.components ?? {})) {
      use(ref.outbound);
      use(ref.inbound);
    }
    // Applied: actor targets (resiliency/resilient-actor-app.ts); actors are hosted by HTTP apps
    // only, so of a retry's matching only httpStatusCodes is read.
    const actorRetries = new Set<string>();
    for (const ref of Object.values(r.spec.targets?.actors ?? {})) {
      if (ref.retry) actorRetries.add(ref.retry);
      use(ref);
    }
    for (const [group, entries] of Object.entries(r.spec.policies ?? {})) {
      for (const [key, value] of Object.entries(entries ?? {})) {
        if (
          used.has(`${group}/${key}`) ||
          COMPONENT_DEFAULTS.test(key) ||
          APP_DEFAULTS.test(key) ||
          ACTOR_DEFAULTS.test(key)
        ) {
          const matching = (value as { matching?: Record<string, unknown> })?.matching;
          if (group !== "retries" || matching === undefined) continue;
          const forApps = appRetries.has(key) || APP_DEFAULTS.test(key);
          const forActors = actorRetries.has(key) || ACTOR_DEFAULTS.test(key);
          for (const field of Object.keys(matching)) {
            const read =
              (forApps && (field === "httpStatusCodes" || field === "gRPCStatusCodes")) ||
              (forActors && field === "httpStatusCodes");
            if (!read)
              found.push({ ...at, field: `spec.policies.retries.${key}.matching.${field}` });
          }
          continue;
        }
        found.push({ ...at, field: `spec.policies.${group}.${key}` });
      }
    }
    for (const [group, entries] of Object.entries(r.spec.targets ?? {})) {
      for (const [key, ref] of Object.entries(entries ?? {})) {
        if (group === "components") continue;
        if (group !== "apps" && group !== "actors") {
          found.push({ ...at, field: `spec.targets.${group}.${key}` });
          continue;
        }
        for (const [policy, value] of Object.entries(ref ?? {})) {
          if (policy === "circuitBreakerScope" || policy === "circuitBreakerCacheSize") continue;
          const name = String(value);
          const policyGroup = GROUP_OF[policy as keyof typeof GROUP_OF];
          const resolved =
            (used.has(`${policyGroup}/${name}`) && isDefined(r, policy, name)) ||
            (policy === "timeout" && parseDuration(name) !== undefined);
          if (!resolved) found.push({ ...at, field: `spec.targets.${group}.${key}.${policy}` });
        }
      }
    }
  }
  for (const c of resources.configurations) {
    const at = { file: c.source.file, kind: "Configuration", name: c.name };
    // Applied: features outrig acts on (APPLIED_FEATURES; every one is listed in the metadata
    // API), secrets.scopes (api/secrets.ts), logging.apiLogging (http/api-logging-config.ts),
    // components.deny (components/deny-list.ts), workflow (workflows/limits.ts), api (below); metrics
    // and tracing are read by metrics/metrics-config.ts and tracing/tracing-config.ts, which name
    // their own unapplied fields. Every other section (accessControl,
    // nameResolution, httpPipeline, appHttpPipeline, mtls, wasm, ...) is accepted by the
    // schema and so warned about here, by name.
    for (const key of Object.keys(c.spec ?? {})) {
      if (!APPLIED_CONFIGURATION.has(key)) found.push({ ...at, field: `spec.${key}` });
    }
    // Applied: api.allowed / api.denied (api/api-allowlist.ts); a rule for no protocol daprd
    // knows is named, as neither server reads it.
    for (const list of ["allowed", "denied"] as const)
      (c.spec.api?.[list] ?? []).forEach((r, i) => {
        if (!/^(http|grpc)$/i.test(r.protocol ?? ""))
          found.push({ ...at, field: `spec.api.${list}[${i}].protocol`, value: r.protocol ?? "" });
      });
    (c.spec.features ?? []).forEach((f, i) => {
      if (!APPLIED_FEATURES[f.name]?.(f.enabled))
        found.push({ ...at, field: `spec.features[${i}]`, value: `${f.name}: ${f.enabled}` });
    });
  }
  return found;
}
