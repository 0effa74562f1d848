import { apiError } from "../api/errors.ts";
import {
  deleteJob as apiDeleteJob,
  getJob as apiGetJob,
  scheduleJob as apiScheduleJob,
  jobDataJson,
  type ScheduleJobRequest,
} from "../api/jobs.ts";
import { parseJsonAs } from "../api/json.ts";
import { anyValueJson } from "../grpc/jobs.ts";
import type { FailurePolicy } from "../scheduler/spec.ts";
import type { Handler } from "./context.ts";
import { readBody, sendJson, sendNoContent } from "./io.ts";

// Decoding and encoding only: the job rules live in ../api/jobs.ts.

const FIELDS = [
  "data",
  "schedule",
  "dueTime",
  "repeats",
  "ttl",
  "overwrite",
  "failurePolicy",
  "name",
] as const;

function malformed(detail: string) {
  return apiError("MALFORMED_BODY", { detail });
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw malformed(`${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** A JSON failure policy (`{"constant": {...}}` or `{"drop": {}}`), checked field by field. */
export function failurePolicy(v: unknown): FailurePolicy | undefined {
  if (v === undefined || v === null) return undefined;
  const bad = () =>
    malformed(
      `failurePolicy must be {"constant": {"interval": "<duration>", "maxRetries": <n>}} or {"drop": {}}, got ${JSON.stringify(v)}`,
    );
  if (typeof v !== "object" || Array.isArray(v)) throw bad();
  const p = v as Record<string, unknown>;
  const keys = Object.keys(p);
  if (keys.length !== 1) throw bad();
  if (keys[0] === "drop") return { drop: {} };
  if (keys[0] !== "constant") throw bad();
  const c = p.constant as Record<string, unknown> | null;
  if (c === null || typeof c !== "object" || Array.isArray(c)) throw bad();
  for (const k of Object.keys(c))
    if (k !== "interval" && k !== "maxRetries")
      throw malformed(`failurePolicy.constant.${k} is not a field`);
  if (c.interval !== undefined && typeof c.interval !== "string")
    throw malformed("failurePolicy.constant.interval must be a duration string such as 5s");
  // protojson writes uint32 as a number but reads a numeric string too.
  const max =
    typeof c.maxRetries === "string" && /^\d+$/.test(c.maxRetries)
      ? Number(c.maxRetries)
      : c.maxRetries;
  if (max !== undefined && typeof max !== "number")
    throw malformed("failurePolicy.constant.maxRetries must be a number");
  return {
    constant: {
      ...(c.interval !== undefined ? { interval: c.interval as string } : {}),
      ...(max !== undefined ? { maxRetries: max as number } : {}),
    },
  };
}

function decode(
  name: string | undefined,
  bytes: Buffer,
): ScheduleJobRequest & { nameInBody: boolean } {
  const parsed = bytes.byteLength === 0 ? {} : parseJsonAs(bytes);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw malformed("the body must be a JSON object");
  const body = parsed as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw malformed(
        `unknown field ${JSON.stringify(key)} (a job has ${FIELDS.slice(0, -1).join(", ")})`,
      );
    }
  }
  const repeatsRaw = body.repeats;
  const repeats =
    typeof repeatsRaw === "string" && /^\d+$/.test(repeatsRaw) ? Number(repeatsRaw) : repeatsRaw;
  if (repeats !== undefined && repeats !== null && typeof repeats !== "number")
    throw malformed(`repeats must be a number, got ${JSON.stringify(repeatsRaw)}`);
  if (
    body.overwrite !== undefined &&
    body.overwrite !== null &&
    typeof body.overwrite !== "boolean"
  )
    throw malformed(`overwrite must be true or false, got ${JSON.stringify(body.overwrite)}`);
  return {
    name,
    nameInBody: body.name !== undefined && body.name !== "",
    ...(body.data !== undefined ? { data: { json: JSON.stringify(body.data) } } : {}),
    schedule: optionalString(body, "schedule"),
    dueTime: optionalString(body, "dueTime"),
    repeats: (repeats ?? undefined) as number | undefined,
    ttl: optionalString(body, "ttl"),
    failurePolicy: failurePolicy(body.failurePolicy),
    overwrite: body.overwrite === true,
  };
}

export const scheduleJob: Handler = async (ctx, req, res, params) => {
  const request = decode(params.name, await readBody(req));
  if (request.nameInBody) throw apiError("JOB_NAME_IN_BODY");
  await apiScheduleJob(ctx, request);
  sendNoContent(res);
};

export const getJob: Handler = async (ctx, _req, res, params) => {
  const job = await apiGetJob(ctx, { name: params.name });
  const data = jobDataJson(job.data, anyValueJson);
  sendJson(res, 200, {
    name: job.name,
    ...(job.schedule !== undefined ? { schedule: job.schedule } : {}),
    ...(job.repeats !== undefined ? { repeats: job.repeats } : {}),
    ...(job.dueTime !== undefined ? { dueTime: job.dueTime } : {}),
    ...(job.ttl !== undefined ? { ttl: job.ttl } : {}),
    ...(data !== undefined ? { data: JSON.parse(data) } : {}),
    ...(job.failurePolicy ? { failurePolicy: job.failurePolicy } : {}),
  });
};

export const deleteJob: Handler = async (ctx, _req, res, params) => {
  await apiDeleteJob(ctx, { name: params.name });
  sendNoContent(res);
};
