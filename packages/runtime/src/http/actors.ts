import type { IncomingMessage } from "node:http";
import { FORWARDED_HEADER, NOT_OWNER_HEADER } from "../actors/forwarding.ts";
import type { Reminder } from "../actors/reminders.ts";
import type { ActorStateOperation } from "../actors/state.ts";
import {
  actorStateTransaction,
  fireForwardedReminder,
  getActorReminder,
  getActorState,
  invokeActor,
  registerActorReminder,
  registerActorTimer,
  unregisterActorReminder,
  unregisterActorTimer,
} from "../api/actors.ts";
import { apiError } from "../api/errors.ts";
import { parseJsonAs } from "../api/json.ts";
import type { Handler } from "./context.ts";
import { HOP_BY_HOP } from "./invoke.ts";
import { field, metadataHeaders, readBody, sendJson, sendNoContent, stringMap } from "./io.ts";
import { failurePolicy } from "./jobs.ts";

// Decoding and encoding only: the actor rules live in ../actors/ and ../api/actors.ts.

function malformed(detail: string) {
  return apiError("MALFORMED_BODY", { detail });
}

async function jsonObject(req: IncomingMessage, fields: readonly string[], what: string) {
  const bytes = await readBody(req);
  const parsed = bytes.byteLength === 0 ? {} : parseJsonAs(bytes);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw malformed(`the ${what} must be a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!fields.some((f) => f.toLowerCase() === key.toLowerCase())) {
      throw malformed(`unknown field ${JSON.stringify(key)} (a ${what} has ${fields.join(", ")})`);
    }
  }
  return parsed as Record<string, unknown>;
}

function text(body: Record<string, unknown>, name: string): string | undefined {
  const v = field(body, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw malformed(`${name} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function data(body: Record<string, unknown>): string | undefined {
  const v = field(body, "data");
  return v === undefined ? undefined : JSON.stringify(v);
}

/** Request headers the actor gets (daprd passes the caller's headers on), one value each. */
function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === "content-length") continue;
    out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

export const invokeActorMethod: Handler = async (ctx, req, res, params) => {
  const url = req.url ?? "";
  const q = url.indexOf("?");
  const answer = await invokeActor(ctx, {
    type: params.type,
    id: params.id,
    method: params.method ?? "",
    body: await readBody(req),
    headers: forwardedHeaders(req),
    query: q >= 0 && q < url.length - 1 ? url.slice(q) : "",
  });
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(answer.headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k) && k !== "content-length") headers[k] = v;
  }
  headers["content-length"] = String(answer.body.byteLength);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
};

export const actorStateTransactionRoute: Handler = async (ctx, req, res, params) => {
  const body = parseJsonAs(await readBody(req));
  if (!Array.isArray(body)) {
    throw malformed("expected a JSON array of operations ({operation, request: {key, value}})");
  }
  const operations: ActorStateOperation[] = body.map((op, i) => {
    if (op === null || typeof op !== "object" || Array.isArray(op)) {
      throw malformed(`operation ${i} must be an object`);
    }
    const request = field(op, "request");
    return {
      operation: field(op, "operation"),
      key: field(request, "key"),
      value: field(request, "value"),
      etag: field(request, "etag"),
      metadata: stringMap(field(request, "metadata")),
    };
  });
  await actorStateTransaction(ctx, { type: params.type, id: params.id, operations });
  sendNoContent(res);
};

export const getActorStateRoute: Handler = async (ctx, _req, res, params) => {
  const got = await getActorState(ctx, { type: params.type, id: params.id, key: params.key });
  if (!got) return sendNoContent(res);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": got.data.byteLength,
    ...metadataHeaders(got.metadata),
  });
  res.end(got.data);
};

/** The fields reminders and timers share. */
function schedule(body: Record<string, unknown>, params: Record<string, string | undefined>) {
  return {
    type: params.type,
    id: params.id,
    name: params.name,
    dueTime: text(body, "dueTime"),
    period: text(body, "period"),
    ttl: text(body, "ttl"),
    data: data(body),
  };
}

const REMINDER_FIELDS = ["dueTime", "period", "ttl", "data", "failurePolicy", "overwrite"] as const;
const TIMER_FIELDS = ["dueTime", "period", "ttl", "data", "callback"] as const;

export const createActorReminder: Handler = async (ctx, req, res, params) => {
  const body = await jsonObject(req, REMINDER_FIELDS, "reminder");
  const overwrite = field(body, "overwrite");
  if (overwrite !== undefined && overwrite !== null && typeof overwrite !== "boolean") {
    throw malformed(`overwrite must be true or false, got ${JSON.stringify(overwrite)}`);
  }
  await registerActorReminder(ctx, {
    ...schedule(body, params),
    failurePolicy: failurePolicy(field(body, "failurePolicy")),
    overwrite: overwrite === false ? false : undefined,
  });
  sendNoContent(res);
};

export const getActorReminderRoute: Handler = async (ctx, _req, res, params) => {
  const r = await getActorReminder(ctx, { type: params.type, id: params.id, name: params.name });
  sendJson(res, 200, {
    actorID: r.actorID,
    actorType: r.actorType,
    name: r.name,
    ...(r.data !== undefined ? { data: JSON.parse(r.data) } : {}),
    ...(r.period ? { period: r.period } : {}),
    ...(r.dueTime ? { dueTime: r.dueTime } : {}),
    ...(r.ttl ? { ttl: r.ttl } : {}),
    registeredTime: r.registeredTime,
  });
};

export const deleteActorReminder: Handler = async (ctx, _req, res, params) => {
  await unregisterActorReminder(ctx, { type: params.type, id: params.id, name: params.name });
  sendNoContent(res);
};

export const createActorTimer: Handler = async (ctx, req, res, params) => {
  const body = await jsonObject(req, TIMER_FIELDS, "timer");
  await registerActorTimer(ctx, { ...schedule(body, params), callback: text(body, "callback") });
  sendNoContent(res);
};

export const deleteActorTimer: Handler = (ctx, _req, res, params) => {
  unregisterActorTimer(ctx, { type: params.type, id: params.id, name: params.name });
  sendNoContent(res);
};

/** A reminder tick forwarded by the sidecar that claimed it (sidecar to sidecar, not Dapr's API). */
export const forwardedReminder: Handler = async (ctx, req, res) => {
  const reminder = parseJsonAs(await readBody(req)) as Reminder;
  if (reminder === null || typeof reminder !== "object") throw malformed("expected a reminder");
  const epoch = Number(req.headers[FORWARDED_HEADER]) || 0;
  const answer = await fireForwardedReminder(ctx, { reminder, epoch });
  if (answer.kind === "notOwner") {
    res.writeHead(409, { [NOT_OWNER_HEADER]: String(answer.epoch), "content-length": 0 });
    res.end();
    return;
  }
  if (answer.kind === "fired") return sendNoContent(res);
  res.writeHead(500, { "content-length": 0 });
  res.end();
};
