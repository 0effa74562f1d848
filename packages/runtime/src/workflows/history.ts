import type { HistoryEvent } from "../grpc/generated/HistoryEvent.ts";
import type { OrchestrationStatus } from "../grpc/generated/OrchestrationStatus.ts";
import type { TaskFailureDetails } from "../grpc/generated/TaskFailureDetails.ts";
import { MESSAGE_OBJECT_OPTIONS, taskHubProtos } from "../grpc/protos.ts";

export type { HistoryEvent, TaskFailureDetails };
/** The status names as the protocol spells them (`ORCHESTRATION_STATUS_RUNNING`, ...). */
export type Status = Exclude<OrchestrationStatus, number>;
export type EventType = NonNullable<HistoryEvent["eventType"]>;

export function timestamp(ms: number): { seconds: string; nanos: number } {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export function millisOf(ts: { seconds?: unknown; nanos?: unknown } | null | undefined): number {
  if (!ts) return 0;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1_000_000);
}

export function stringValue(value: string | undefined | null): { value: string } | null {
  return value === undefined || value === null ? null : { value };
}

/** A history event of one type; `eventId` -1 for the events no action stands behind. */
export function event<T extends EventType>(
  type: T,
  body: NonNullable<HistoryEvent[T]>,
  eventId = -1,
  at = Date.now(),
): HistoryEvent {
  return { eventId, timestamp: timestamp(at), [type]: body, eventType: type };
}

/** The type of a history event, as stored (the oneof's name) or as built here. */
export function typeOf(e: HistoryEvent): EventType | undefined {
  if (e.eventType) return e.eventType;
  for (const key of Object.keys(e) as (keyof HistoryEvent)[]) {
    if (key !== "eventId" && key !== "timestamp" && key !== "eventType" && e[key]) {
      return key as EventType;
    }
  }
  return undefined;
}

export function encodeEvent(e: HistoryEvent): Uint8Array {
  const type = taskHubProtos().historyEvent;
  return type.encode(type.fromObject(e)).finish();
}

export function decodeEvent(bytes: Uint8Array): HistoryEvent {
  const type = taskHubProtos().historyEvent;
  return type.toObject(type.decode(bytes), MESSAGE_OBJECT_OPTIONS) as HistoryEvent;
}

export const TERMINAL: ReadonlySet<Status> = new Set<Status>([
  "ORCHESTRATION_STATUS_COMPLETED",
  "ORCHESTRATION_STATUS_FAILED",
  "ORCHESTRATION_STATUS_TERMINATED",
  "ORCHESTRATION_STATUS_CANCELED",
]);

/** Activities scheduled in `history` whose result is in neither `history` nor `inbox`. */
export function pendingActivities(
  history: readonly HistoryEvent[],
  inbox: readonly HistoryEvent[],
): HistoryEvent[] {
  const done = new Set<number>();
  for (const e of [...history, ...inbox]) {
    const id = e.taskCompleted?.taskScheduledId ?? e.taskFailed?.taskScheduledId;
    if (id !== undefined && id !== null) done.add(id);
  }
  return history.filter((e) => e.taskScheduled && !done.has(e.eventId ?? -1));
}

/** Whether the activity `taskId` is scheduled and has no result yet: its result is recorded once. */
export function awaitsResult(
  history: readonly HistoryEvent[],
  inbox: readonly HistoryEvent[],
  taskId: number,
): boolean {
  return pendingActivities(history, inbox).some((e) => e.eventId === taskId);
}

/** Timers created in `history` that have not fired (in history or inbox). */
export function pendingTimers(
  history: readonly HistoryEvent[],
  inbox: readonly HistoryEvent[],
): HistoryEvent[] {
  const fired = new Set<number>();
  for (const e of [...history, ...inbox]) if (e.timerFired) fired.add(e.timerFired.timerId ?? -1);
  return history.filter((e) => e.timerCreated && !fired.has(e.eventId ?? -1));
}

/** Child workflows created in `history` whose outcome has not come back. */
export function pendingChildren(
  history: readonly HistoryEvent[],
  inbox: readonly HistoryEvent[],
): HistoryEvent[] {
  const done = new Set<number>();
  for (const e of [...history, ...inbox]) {
    const id =
      e.subOrchestrationInstanceCompleted?.taskScheduledId ??
      e.subOrchestrationInstanceFailed?.taskScheduledId;
    if (id !== undefined && id !== null) done.add(id);
  }
  return history.filter((e) => e.subOrchestrationInstanceCreated && !done.has(e.eventId ?? -1));
}
