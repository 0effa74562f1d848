import { parseDuration } from "@outrig/core";
import type { ResiliencyResource } from "../resources/model.ts";

/**
 * The parts of Resiliency resources the runtime applies: the `timeout` of `targets.apps`
 * entries, as a deadline for service invocation of that app. A target's `timeout` names a policy
 * of `policies.timeouts` (or is a duration itself). The targets' retry and circuit breaker are
 * compiled by policies.ts (`ResiliencyPolicies.app`).
 */

function inScope(r: ResiliencyResource, appId: string): boolean {
  return r.scopes.length === 0 || r.scopes.includes(appId);
}

/**
 * A target's `timeout` in ms: the named policy of `policies.timeouts` when there is one (`named`),
 * else the reference read as a duration itself; undefined when neither is a positive duration.
 */
export function timeoutMs(named: string | undefined, ref: string): number | undefined {
  const ms = parseDuration(named ?? ref);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

function timeoutOf(r: ResiliencyResource, ref: string): number | undefined {
  return timeoutMs(r.spec.policies?.timeouts?.[ref], ref);
}

/** Invocation deadline (ms) per callee app id, from the Resiliency resources in scope of `appId`. */
export function appInvocationTimeouts(
  resiliencies: readonly ResiliencyResource[],
  appId: string,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of resiliencies) {
    if (!inScope(r, appId)) continue;
    for (const [callee, ref] of Object.entries(r.spec.targets?.apps ?? {})) {
      const ms = ref.timeout ? timeoutOf(r, ref.timeout) : undefined;
      if (ms !== undefined) out.set(callee, ms);
    }
  }
  return out;
}

/** Whether a `targets.apps.<name>.timeout` is applied (so it is not warned about). */
export function appliedTimeoutPolicies(r: ResiliencyResource): Set<string> {
  const used = new Set<string>();
  for (const ref of Object.values(r.spec.targets?.apps ?? {})) {
    if (ref.timeout && r.spec.policies?.timeouts?.[ref.timeout] !== undefined)
      used.add(ref.timeout);
  }
  return used;
}
