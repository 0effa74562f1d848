// Turn application: what a worker's answer (or a termination) does to an instance, as data. The
// engine commits the result and then carries out the effects; nothing here touches a store.
import { randomUUID } from "node:crypto";
import type { OrchestratorAction__Output } from "../grpc/generated/OrchestratorAction.ts";
import type { OrchestratorResponse__Output } from "../grpc/generated/OrchestratorResponse.ts";
import {
  event,
  type HistoryEvent,
  millisOf,
  pendingChildren,
  type Status,
  stringValue,
  timestamp,
} from "./history.ts";
import type { Commit, InstanceMeta, StoredInstance } from "./instance-store.ts";

/** What a committed turn asked for, done after the commit (a crash before is redone on resume). */
export type Effect =
  | {
      kind: "activity";
      executionId: string;
      taskId: number;
      name: string;
      input: string | undefined;
    }
  | { kind: "timer"; executionId: string; timerId: number; fireAt: number }
  | { kind: "child"; parentName: string; created: HistoryEvent }
  | { kind: "sendEvent"; target: string; name: string; data: string | undefined }
  | { kind: "terminate"; instanceId: string; reason: string | undefined; recurse: boolean }
  /** Continue-as-new: the finished execution's timers go. */
  | { kind: "clearTimers" };

export interface TurnPlan {
  commit: Commit;
  effects: Effect[];
  /** Ids of actions of a kind this engine does not know (ignored). */
  unknownActions: number[];
}

/**
 * The commit of a turn: `newEvents` (orchestratorStarted and the first `consumed` inbox entries)
 * and the history events recording the worker's actions appended, the rest of the inbox kept;
 * or, for continue-as-new, a fresh execution whose inbox starts it.
 */
export function planTurn(
  inst: StoredInstance,
  turn: { newEvents: readonly HistoryEvent[]; consumed: number },
  response: OrchestratorResponse__Output,
  now = Date.now(),
): TurnPlan {
  const added: HistoryEvent[] = [...turn.newEvents];
  let effects: Effect[] = [];
  const unknownActions: number[] = [];
  const meta: InstanceMeta = {
    ...inst.meta,
    updatedAt: now,
    generation: inst.meta.generation + 1,
    customStatus: response.customStatus?.value ?? inst.meta.customStatus,
  };
  if (meta.status === "ORCHESTRATION_STATUS_PENDING") meta.status = "ORCHESTRATION_STATUS_RUNNING";
  for (const e of turn.newEvents) {
    if (e.executionSuspended) meta.status = "ORCHESTRATION_STATUS_SUSPENDED";
    if (e.executionResumed && meta.status === "ORCHESTRATION_STATUS_SUSPENDED")
      meta.status = "ORCHESTRATION_STATUS_RUNNING";
  }
  let continued: { input: string | undefined; carryover: HistoryEvent[] } | undefined;
  for (const action of response.actions) {
    const recorded = actionEvent(inst.id, action, meta, effects, now);
    if (recorded === "unknown") unknownActions.push(action.id);
    else if (recorded === "continue-as-new") {
      const complete = action.completeOrchestration;
      continued = {
        input: complete?.result?.value,
        carryover: (complete?.carryoverEvents ?? []) as HistoryEvent[],
      };
    } else if (recorded) added.push(recorded);
  }
  const remaining = inst.inbox.slice(turn.consumed);
  if (continued) {
    const executionId = randomUUID();
    meta.executionId = executionId;
    meta.status = "ORCHESTRATION_STATUS_RUNNING";
    meta.input = continued.input;
    meta.output = undefined;
    const restarted = event("executionStarted", {
      name: meta.name,
      input: stringValue(continued.input),
      orchestrationInstance: { instanceId: inst.id, executionId: { value: executionId } },
    });
    const inbox = [restarted, ...continued.carryover, ...remaining];
    // Nothing the finished execution asked for outlives it.
    effects = [{ kind: "clearTimers" }];
    return {
      commit: { meta, history: [], keptHistory: 0, inbox, keptInbox: 0 },
      effects,
      unknownActions,
    };
  }
  added.push(event("orchestratorCompleted", {}));
  return {
    commit: {
      meta,
      history: [...inst.history, ...added],
      keptHistory: inst.history.length,
      inbox: remaining,
      keptInbox: 0,
    },
    effects,
    unknownActions,
  };
}

/** The history event recording `action` (its effect pushed to `effects`). */
function actionEvent(
  instanceId: string,
  action: OrchestratorAction__Output,
  meta: InstanceMeta,
  effects: Effect[],
  now: number,
): HistoryEvent | "continue-as-new" | "unknown" | undefined {
  const id = action.id;
  const executionId = meta.executionId;
  if (action.scheduleTask) {
    const task = action.scheduleTask;
    effects.push({
      kind: "activity",
      executionId,
      taskId: id,
      name: task.name,
      input: task.input?.value,
    });
    return event(
      "taskScheduled",
      { name: task.name, version: task.version, input: task.input },
      id,
      now,
    );
  }
  if (action.createTimer) {
    const fireAt = millisOf(action.createTimer.fireAt);
    effects.push({ kind: "timer", executionId, timerId: id, fireAt });
    return event("timerCreated", { fireAt: timestamp(fireAt) }, id, now);
  }
  if (action.createSubOrchestration) {
    const sub = action.createSubOrchestration;
    const childId = sub.instanceId || `${instanceId}:${String(id).padStart(4, "0")}`;
    const created = event(
      "subOrchestrationInstanceCreated",
      { instanceId: childId, name: sub.name, version: sub.version, input: sub.input },
      id,
      now,
    );
    effects.push({ kind: "child", parentName: meta.name, created });
    return created;
  }
  if (action.sendEvent) {
    const send = action.sendEvent;
    const target = send.instance?.instanceId ?? "";
    effects.push({ kind: "sendEvent", target, name: send.name, data: send.data?.value });
    return event("eventSent", { instanceId: target, name: send.name, input: send.data }, id, now);
  }
  if (action.terminateOrchestration) {
    const t = action.terminateOrchestration;
    effects.push({
      kind: "terminate",
      instanceId: t.instanceId,
      reason: t.reason?.value,
      recurse: t.recurse,
    });
    return undefined;
  }
  if (action.completeOrchestration) {
    const complete = action.completeOrchestration;
    const status = complete.orchestrationStatus as Status;
    if (status === "ORCHESTRATION_STATUS_CONTINUED_AS_NEW") return "continue-as-new";
    meta.status = status;
    meta.output = complete.result?.value;
    meta.failure = complete.failureDetails ?? undefined;
    return event(
      "executionCompleted",
      {
        orchestrationStatus: status,
        result: complete.result,
        failureDetails: complete.failureDetails,
      },
      id,
      now,
    );
  }
  return "unknown";
}

/**
 * The commit that ends the instance at once (the inbox holds an ExecutionTerminated), the
 * children it had running, and whether they are terminated too.
 */
export function planTermination(inst: StoredInstance): {
  commit: Commit;
  output: string | undefined;
  children: string[];
  recurse: boolean;
} {
  const terminated = inst.inbox.find((e) => e.executionTerminated)?.executionTerminated;
  const output = terminated?.input?.value;
  const meta: InstanceMeta = {
    ...inst.meta,
    status: "ORCHESTRATION_STATUS_TERMINATED",
    output,
    updatedAt: Date.now(),
    generation: inst.meta.generation + 1,
  };
  const added = [
    event("orchestratorStarted", {}),
    ...inst.inbox,
    event("executionCompleted", {
      orchestrationStatus: "ORCHESTRATION_STATUS_TERMINATED",
      result: stringValue(output),
    }),
    event("orchestratorCompleted", {}),
  ];
  const children = pendingChildren(inst.history, inst.inbox).flatMap(
    (child) => child.subOrchestrationInstanceCreated?.instanceId || [],
  );
  return {
    commit: {
      meta,
      history: [...inst.history, ...added],
      keptHistory: inst.history.length,
      inbox: [],
      keptInbox: 0,
    },
    output,
    children,
    recurse: terminated?.recurse !== false,
  };
}
