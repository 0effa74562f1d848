import type { Logger } from "@outrig/core";
import type { Runtime } from "../runtime.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { WorkflowEngine } from "./engine.ts";
import { InstanceStore } from "./instance-store.ts";
import {
  instanceKeys,
  workflowActorType,
  workflowJobPrefix,
  workflowLeasePrefix,
  workflowWakePrefix,
} from "./keys.ts";

/**
 * The workflow engine over the actor state store and the sidecar's scheduler, with the instances
 * that were running resumed; `undefined` without an actor state store (the API then says so).
 */
export async function startWorkflowEngine(
  runtime: Runtime,
  scheduler: Scheduler,
  options: {
    /** The actor state store (see findActorStateStore), if any. */
    stateStore: string | undefined;
    appId: string;
    namespace?: string | undefined;
    logger: Logger;
    turnTimeoutMs?: number | undefined;
    /** The Configuration's `workflow` limits (see WorkflowEngineOptions.maxConcurrent). */
    maxConcurrent?: { orchestration?: number | undefined; activity?: number | undefined };
    maxInstances?: number | undefined;
  },
): Promise<WorkflowEngine | undefined> {
  const name = options.stateStore;
  if (!name) return undefined;
  const actorType = workflowActorType(options.namespace, options.appId);
  const engine = new WorkflowEngine({
    store: new InstanceStore(
      () => runtime.stateStore(name).component,
      instanceKeys(options.appId, actorType),
    ),
    scheduler,
    jobPrefix: workflowJobPrefix(options.namespace, options.appId),
    leasePrefix: workflowLeasePrefix(options.namespace, options.appId),
    wakePrefix: workflowWakePrefix(options.namespace, options.appId),
    logger: options.logger,
    ...(options.turnTimeoutMs ? { turnTimeoutMs: options.turnTimeoutMs } : {}),
    ...(options.maxConcurrent ? { maxConcurrent: options.maxConcurrent } : {}),
    ...(options.maxInstances ? { maxInstances: options.maxInstances } : {}),
  });
  await engine.start();
  options.logger.info("workflow engine started", { stateStore: name, actorType });
  return engine;
}
