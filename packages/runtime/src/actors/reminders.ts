import type { FailurePolicy, ScheduleSpec } from "../scheduler/spec.ts";
import { type Timing, timingOf } from "./schedule.ts";

/** What registers a reminder or a timer: the texts as given, so they read back as sent. */
export interface ActorSchedule {
  type: string;
  id: string;
  name: string;
  dueTime?: string | undefined;
  period?: string | undefined;
  ttl?: string | undefined;
  /** The data as JSON text (HTTP's `data`; gRPC bytes arrive as a base64 JSON string, as daprd). */
  data?: string | undefined;
}

/** A reminder as stored in the scheduler's payload. */
export interface Reminder extends ActorSchedule {
  failurePolicy?: FailurePolicy | undefined;
  /** When it was registered (ms). */
  registeredAt: number;
}

/**
 * The scheduler's keys of a type's reminders: `actorreminder||<namespace>||<type>||`, as Dapr's
 * scheduler names them. No app id in it: whichever sidecar hosts the type fires them.
 */
export function reminderPrefix(namespace: string, type: string): string {
  return `actorreminder||${namespace}||${type}||`;
}

export function reminderKey(namespace: string, r: Pick<Reminder, "type" | "id" | "name">): string {
  return `${reminderPrefix(namespace, r.type)}${r.id}||${r.name}`;
}

export function encodeReminder(r: Reminder): Uint8Array {
  return Buffer.from(JSON.stringify(r));
}

export function decodeReminder(payload: Uint8Array): Reminder {
  return JSON.parse(Buffer.from(payload).toString("utf8")) as Reminder;
}

/**
 * The scheduler spec of a reminder: the first tick at its due time, then every period (as many
 * times as an `R<n>/` repetition allows) until its ttl. Throws naming what is wrong.
 */
export function reminderSpec(r: Reminder): { spec: ScheduleSpec; timing: Timing } {
  const timing = timingOf(r, "reminder", `${r.type}||${r.id}||${r.name}`, r.registeredAt);
  const spec: ScheduleSpec = {
    dueTime: new Date(timing.dueAt).toISOString(),
    ...(timing.period ? { schedule: `@every ${timing.period.everyMs}ms` } : {}),
    ...(timing.period?.repeats !== undefined ? { repeats: timing.period.repeats } : {}),
    ...(timing.expiresAt !== undefined ? { ttl: new Date(timing.expiresAt).toISOString() } : {}),
    ...(r.failurePolicy ? { failurePolicy: r.failurePolicy } : {}),
  };
  return { spec, timing };
}

/** The body of `PUT /actors/{type}/{id}/method/remind/{name}`, as daprd sends it. */
export function reminderCallbackBody(r: Reminder): string {
  return `{"data":${r.data ?? "null"},"dueTime":${JSON.stringify(r.dueTime ?? "")},"period":${JSON.stringify(r.period ?? "")}}`;
}
