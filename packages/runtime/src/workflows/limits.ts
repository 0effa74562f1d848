import type { ConfigurationResource } from "../resources/model.ts";

/**
 * The Configuration's `workflow.maxConcurrentWorkflowInvocations` and
 * `maxConcurrentActivityInvocations`: how many orchestration turns and activities this sidecar
 * has out at once. As daprd, 0 or less (or absent) is no limit; a later Configuration overrides.
 */
export function workflowLimits(configurations: readonly ConfigurationResource[]): {
  orchestration?: number;
  activity?: number;
} {
  const out: { orchestration?: number; activity?: number } = {};
  for (const c of configurations) {
    const w = c.spec.workflow;
    if (w?.maxConcurrentWorkflowInvocations !== undefined)
      out.orchestration = Math.max(0, w.maxConcurrentWorkflowInvocations);
    if (w?.maxConcurrentActivityInvocations !== undefined)
      out.activity = Math.max(0, w.maxConcurrentActivityInvocations);
  }
  return out;
}
