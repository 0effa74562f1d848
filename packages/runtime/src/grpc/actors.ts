import {
  actorStateTransaction,
  getActorReminder,
  getActorState,
  invokeActor,
  listActorReminders,
  type ReminderView,
  registerActorReminder,
  registerActorTimer,
  unregisterActorReminder,
  unregisterActorReminders,
  unregisterActorTimer,
} from "../api/actors.ts";
import { apiError } from "../api/errors.ts";
import type { ExecuteActorStateTransactionRequest__Output } from "./generated/dapr/proto/runtime/v1/ExecuteActorStateTransactionRequest.ts";
import type { GetActorReminderRequest__Output } from "./generated/dapr/proto/runtime/v1/GetActorReminderRequest.ts";
import type { GetActorStateRequest__Output } from "./generated/dapr/proto/runtime/v1/GetActorStateRequest.ts";
import type { InvokeActorRequest__Output } from "./generated/dapr/proto/runtime/v1/InvokeActorRequest.ts";
import type { ListActorRemindersRequest__Output } from "./generated/dapr/proto/runtime/v1/ListActorRemindersRequest.ts";
import type { RegisterActorReminderRequest__Output } from "./generated/dapr/proto/runtime/v1/RegisterActorReminderRequest.ts";
import type { RegisterActorTimerRequest__Output } from "./generated/dapr/proto/runtime/v1/RegisterActorTimerRequest.ts";
import type { UnregisterActorReminderRequest__Output } from "./generated/dapr/proto/runtime/v1/UnregisterActorReminderRequest.ts";
import type { UnregisterActorRemindersByTypeRequest__Output } from "./generated/dapr/proto/runtime/v1/UnregisterActorRemindersByTypeRequest.ts";
import type { UnregisterActorTimerRequest__Output } from "./generated/dapr/proto/runtime/v1/UnregisterActorTimerRequest.ts";
import { jsonToAny, policyIn } from "./jobs.ts";

// Decoding and encoding only: the actor rules live in ../actors/ and ../api/actors.ts.

type Method = (ctx: Parameters<typeof invokeActor>[0], request: never) => Promise<unknown>;

/** gRPC reminder and timer data are bytes; daprd keeps them as their JSON (a base64 string). */
function bytesData(data: Buffer): string | undefined {
  return data.byteLength === 0 ? undefined : JSON.stringify(data.toString("base64"));
}

const empty = (s: string) => (s === "" ? undefined : s);

const invoke: Method = async (ctx, r: InvokeActorRequest__Output) => {
  const answer = await invokeActor(ctx, {
    type: r.actorType,
    id: r.actorId,
    method: r.method,
    body: r.data,
    headers: r.metadata ?? {},
    query: "",
  });
  if (answer.status < 200 || answer.status >= 300) {
    throw apiError("ACTOR_INVOKE", {
      error: `the actor answered ${answer.status}: ${answer.body.toString("utf8")}`,
    });
  }
  return { data: answer.body };
};

const getState: Method = async (ctx, r: GetActorStateRequest__Output) => {
  const got = await getActorState(ctx, { type: r.actorType, id: r.actorId, key: r.key });
  return { data: got ? Buffer.from(got.data) : Buffer.alloc(0), metadata: got?.metadata ?? {} };
};

const transaction: Method = async (ctx, r: ExecuteActorStateTransactionRequest__Output) => {
  await actorStateTransaction(ctx, {
    type: r.actorType,
    id: r.actorId,
    operations: r.operations.map((op) => ({
      operation: op.operationType,
      key: op.key,
      value: op.value ? new Uint8Array(op.value.value) : undefined,
      metadata: op.metadata ?? {},
    })),
  });
  return {};
};

/** The fields reminders and timers share. */
function schedule(r: RegisterActorTimerRequest__Output | RegisterActorReminderRequest__Output) {
  return {
    type: r.actorType,
    id: r.actorId,
    name: r.name,
    dueTime: empty(r.dueTime),
    period: empty(r.period),
    ttl: empty(r.ttl),
    data: bytesData(r.data),
  };
}

const registerReminder: Method = async (ctx, r: RegisterActorReminderRequest__Output) => {
  await registerActorReminder(ctx, {
    ...schedule(r),
    failurePolicy: policyIn(r.failurePolicy),
    overwrite: r.overwrite,
  });
  return {};
};

/** A reminder as ActorReminder (GetActorReminderResponse has the same fields). */
function reminderOut(view: ReminderView) {
  return {
    actorType: view.actorType,
    actorId: view.actorID,
    ...(view.dueTime ? { dueTime: view.dueTime } : {}),
    ...(view.period ? { period: view.period } : {}),
    ...(view.ttl ? { ttl: view.ttl } : {}),
    data: view.data === undefined ? null : jsonToAny(view.data),
  };
}

const getReminder: Method = async (ctx, r: GetActorReminderRequest__Output) =>
  reminderOut(await getActorReminder(ctx, { type: r.actorType, id: r.actorId, name: r.name }));

const listReminders: Method = async (ctx, r: ListActorRemindersRequest__Output) => ({
  reminders: (await listActorReminders(ctx, { type: r.actorType, id: r.actorId })).map((v) => ({
    name: v.name,
    reminder: reminderOut(v),
  })),
});

const unregisterByType: Method = async (ctx, r: UnregisterActorRemindersByTypeRequest__Output) => {
  await unregisterActorReminders(ctx, { type: r.actorType, id: r.actorId });
  return {};
};

const unregisterReminder: Method = async (ctx, r: UnregisterActorReminderRequest__Output) => {
  await unregisterActorReminder(ctx, { type: r.actorType, id: r.actorId, name: r.name });
  return {};
};

const registerTimer: Method = async (ctx, r: RegisterActorTimerRequest__Output) => {
  await registerActorTimer(ctx, { ...schedule(r), callback: empty(r.callback) });
  return {};
};

const unregisterTimer: Method = async (ctx, r: UnregisterActorTimerRequest__Output) => {
  unregisterActorTimer(ctx, { type: r.actorType, id: r.actorId, name: r.name });
  return {};
};

/** The actor methods of `dapr.proto.runtime.v1.Dapr` outrig serves. */
export const ACTOR_METHODS = {
  InvokeActor: invoke,
  GetActorState: getState,
  ExecuteActorStateTransaction: transaction,
  RegisterActorReminder: registerReminder,
  GetActorReminder: getReminder,
  UnregisterActorReminder: unregisterReminder,
  ListActorReminders: listReminders,
  UnregisterActorRemindersByType: unregisterByType,
  RegisterActorTimer: registerTimer,
  UnregisterActorTimer: unregisterTimer,
} satisfies Record<string, Method>;
