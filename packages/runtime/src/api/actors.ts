import type {
  ActorRuntime,
  InvokeRequest,
  ReminderRequest,
  TimerRequest,
} from "../actors/actor-runtime.ts";
import { NotOwner } from "../actors/forwarding.ts";
import type { Reminder } from "../actors/reminders.ts";
import type { ActorStateOperation } from "../actors/state.ts";
import type { AppResponse } from "../app/channel.ts";
import type { ApiContext } from "./context.ts";
import { apiError } from "./errors.ts";

// The actor API as both transports serve it; the actor rules live in ../actors/.

function runtimeOf(ctx: ApiContext): ActorRuntime {
  if (!ctx.actors) throw apiError("API_UNIMPLEMENTED", { api: "actors (no actor runtime)" });
  return ctx.actors;
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === "") {
    throw apiError("MALFORMED_REQUEST", { detail: `the actor ${what} is empty` });
  }
  return value;
}

function actor(r: { type: string | undefined; id: string | undefined }) {
  return { type: required(r.type, "type"), id: required(r.id, "id") };
}

export function invokeActor(
  ctx: ApiContext,
  request: Omit<InvokeRequest, "type" | "id"> & {
    type: string | undefined;
    id: string | undefined;
  },
): Promise<AppResponse> {
  return runtimeOf(ctx).invoke({
    ...request,
    ...actor(request),
    method: required(request.method, "method"),
  });
}

export function getActorState(
  ctx: ApiContext,
  request: { type: string | undefined; id: string | undefined; key: string | undefined },
) {
  const { type, id } = actor(request);
  return runtimeOf(ctx).getState(type, id, request.key ?? "");
}

export function actorStateTransaction(
  ctx: ApiContext,
  request: {
    type: string | undefined;
    id: string | undefined;
    operations: readonly ActorStateOperation[];
  },
): Promise<void> {
  const { type, id } = actor(request);
  return runtimeOf(ctx).transact(type, id, request.operations);
}

export function registerActorReminder(
  ctx: ApiContext,
  request: Omit<ReminderRequest, "type" | "id" | "name"> & {
    type: string | undefined;
    id: string | undefined;
    name: string | undefined;
  },
): Promise<void> {
  return runtimeOf(ctx).createReminder({
    ...request,
    ...actor(request),
    name: required(request.name, "reminder name"),
  });
}

/** A reminder as GET answers it (daprd's Reminder JSON: RFC 3339 times, the data as given). */
export interface ReminderView {
  actorID: string;
  actorType: string;
  name: string;
  dueTime: string;
  period: string;
  ttl: string;
  /** JSON text. */
  data: string | undefined;
  registeredTime: string;
  /** The next tick. */
  nextTime: string;
}

function reminderView(r: Reminder & { dueAt: number }): ReminderView {
  return {
    actorID: r.id,
    actorType: r.type,
    name: r.name,
    dueTime: r.dueTime ?? "",
    period: r.period ?? "",
    ttl: r.ttl ?? "",
    data: r.data,
    registeredTime: new Date(r.registeredAt).toISOString(),
    nextTime: new Date(r.dueAt).toISOString(),
  };
}

export async function getActorReminder(
  ctx: ApiContext,
  request: { type: string | undefined; id: string | undefined; name: string | undefined },
): Promise<ReminderView> {
  const { type, id } = actor(request);
  return reminderView(
    await runtimeOf(ctx).getReminder(type, id, required(request.name, "reminder name")),
  );
}

/** The reminders of a type, or of one actor of it when `id` is given. */
export async function listActorReminders(
  ctx: ApiContext,
  request: { type: string | undefined; id?: string | undefined },
): Promise<ReminderView[]> {
  const type = required(request.type, "type");
  const id = request.id === "" ? undefined : request.id;
  return (await runtimeOf(ctx).listReminders(type, id)).map(reminderView);
}

/** Deletes the reminders of a type, or of one actor of it when `id` is given. */
export function unregisterActorReminders(
  ctx: ApiContext,
  request: { type: string | undefined; id?: string | undefined },
): Promise<void> {
  const type = required(request.type, "type");
  return runtimeOf(ctx).deleteReminders(type, request.id === "" ? undefined : request.id);
}

export function unregisterActorReminder(
  ctx: ApiContext,
  request: { type: string | undefined; id: string | undefined; name: string | undefined },
): Promise<void> {
  const { type, id } = actor(request);
  return runtimeOf(ctx).deleteReminder(type, id, required(request.name, "reminder name"));
}

export function registerActorTimer(
  ctx: ApiContext,
  request: Omit<TimerRequest, "type" | "id" | "name"> & {
    type: string | undefined;
    id: string | undefined;
    name: string | undefined;
  },
): Promise<void> {
  return runtimeOf(ctx).createTimer({
    ...request,
    ...actor(request),
    name: required(request.name, "timer name"),
  });
}

export function unregisterActorTimer(
  ctx: ApiContext,
  request: { type: string | undefined; id: string | undefined; name: string | undefined },
): void {
  const { type, id } = actor(request);
  runtimeOf(ctx).deleteTimer(type, id, required(request.name, "timer name"));
}

/**
 * A reminder tick another sidecar claimed for an actor it found this sidecar to own (at
 * `epoch`): `fired` when the app took it, `failed` when not, `notOwner` with this sidecar's
 * epoch when it does not own the actor.
 */
export async function fireForwardedReminder(
  ctx: ApiContext,
  request: { reminder: Reminder; epoch: number },
): Promise<{ kind: "fired" } | { kind: "failed" } | { kind: "notOwner"; epoch: number }> {
  const timeoutMs = ctx.scheduler?.triggerTimeoutMs ?? 15_000;
  const { reminder } = request;
  actor(reminder);
  required(reminder.name, "reminder name");
  const answer = await runtimeOf(ctx).fireForwardedReminder(
    reminder,
    request.epoch,
    timeoutMs,
    AbortSignal.timeout(timeoutMs),
  );
  if (answer instanceof NotOwner) return { kind: "notOwner", epoch: answer.epoch };
  return { kind: answer ? "fired" : "failed" };
}
