import { errorMessage } from "@outrig/core";
import { JobExistsError, type ScheduledJob, type TriggerHandler } from "../scheduler/scheduler.ts";
import { type FailurePolicy, type ScheduleSpec, ScheduleSpecError } from "../scheduler/spec.ts";
import { endSpan, type SidecarTracing, SpanKind } from "../tracing/sidecar-tracing.ts";
import type { ApiContext } from "./context.ts";
import { type ApiErrorKind, apiError, isApiError } from "./errors.ts";

/**
 * A job's data: a JSON value (the HTTP API's `data`), or a protobuf Any as the gRPC API carries
 * it. Kept as given, so each transport reads back what was written.
 */
export type JobData = { json: string } | { typeUrl: string; value: Uint8Array };

export interface ScheduleJobRequest {
  name: string | undefined;
  data?: JobData | undefined;
  schedule?: string | undefined;
  dueTime?: string | undefined;
  repeats?: number | undefined;
  ttl?: string | undefined;
  failurePolicy?: FailurePolicy | undefined;
  overwrite?: boolean | undefined;
}

/** A job as GET and ListJobs answer it. */
export interface JobView {
  name: string;
  schedule?: string;
  dueTime?: string;
  repeats?: number;
  ttl?: string;
  data?: JobData;
  failurePolicy?: FailurePolicy;
}

/** The scheduler's key of a job: owner and namespace in it, as Dapr's `app||<ns>||<appId>||`. */
export function jobPrefix(ctx: ApiContext): string {
  return `app||${ctx.runtime.namespace ?? "default"}||${ctx.appId}||`;
}

function errorMetadata(ctx: ApiContext): Record<string, string> {
  return { appID: ctx.appId, namespace: ctx.runtime.namespace ?? "default" };
}

function fail(
  ctx: ApiContext,
  kind: ApiErrorKind,
  params: Record<string, string> = {},
  cause?: unknown,
) {
  return apiError(kind, params, { metadata: errorMetadata(ctx), cause });
}

/** A ScheduleJob request without its job message. */
export function noJob(ctx: ApiContext) {
  return fail(ctx, "JOB_EMPTY");
}

function schedulerOf(ctx: ApiContext) {
  if (!ctx.scheduler) throw apiError("API_UNIMPLEMENTED", { api: "jobs (no scheduler)" });
  return ctx.scheduler;
}

function checkName(ctx: ApiContext, name: string | undefined): string {
  const n = name?.trim() ?? "";
  if (n === "") throw fail(ctx, "JOB_NAME_EMPTY", { detail: "Name is empty" });
  // `||` separates the parts of the scheduler key.
  if (n.includes("|")) {
    throw fail(ctx, "JOB_NAME_EMPTY", {
      detail: `job name ${JSON.stringify(n)} must not contain "|"`,
    });
  }
  return n;
}

function encodeData(data: JobData | undefined): Uint8Array {
  const stored =
    data === undefined
      ? {}
      : "json" in data
        ? { json: data.json }
        : { typeUrl: data.typeUrl, value: Buffer.from(data.value).toString("base64") };
  return Buffer.from(JSON.stringify(stored));
}

function decodeData(payload: Uint8Array): JobData | undefined {
  const stored = JSON.parse(Buffer.from(payload).toString("utf8")) as {
    json?: string;
    typeUrl?: string;
    value?: string;
  };
  if (stored.json !== undefined) return { json: stored.json };
  if (stored.typeUrl !== undefined)
    return { typeUrl: stored.typeUrl, value: Buffer.from(stored.value ?? "", "base64") };
  return undefined;
}

function toView(prefix: string, job: ScheduledJob): JobView {
  const data = decodeData(job.payload);
  const { spec } = job;
  return {
    name: job.key.slice(prefix.length),
    ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
    ...(spec.dueTime !== undefined ? { dueTime: spec.dueTime } : {}),
    ...(spec.repeats !== undefined ? { repeats: spec.repeats } : {}),
    ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
    ...(data ? { data } : {}),
    ...(spec.failurePolicy ? { failurePolicy: spec.failurePolicy } : {}),
  };
}

/** Stores a job of this app (POST /v1.0/jobs/{name}, ScheduleJob). */
export async function scheduleJob(ctx: ApiContext, request: ScheduleJobRequest): Promise<void> {
  const scheduler = schedulerOf(ctx);
  const name = checkName(ctx, request.name);
  if (request.schedule === undefined && request.dueTime === undefined) {
    throw fail(ctx, "JOB_SCHEDULE_EMPTY");
  }
  const spec: ScheduleSpec = {
    ...(request.schedule !== undefined ? { schedule: request.schedule } : {}),
    ...(request.dueTime !== undefined ? { dueTime: request.dueTime } : {}),
    ...(request.repeats !== undefined ? { repeats: request.repeats } : {}),
    ...(request.ttl !== undefined ? { ttl: request.ttl } : {}),
    ...(request.failurePolicy ? { failurePolicy: request.failurePolicy } : {}),
  };
  try {
    await scheduler.schedule(jobPrefix(ctx) + name, spec, encodeData(request.data), {
      overwrite: request.overwrite === true,
    });
  } catch (error) {
    if (error instanceof ScheduleSpecError)
      throw fail(ctx, "JOB_SCHEDULE_INVALID", { error: error.message }, error);
    if (error instanceof JobExistsError) throw fail(ctx, "JOB_EXISTS", { name }, error);
    throw fail(ctx, "JOB_SCHEDULE", { error: errorMessage(error) }, error);
  }
}

/** This app's job `name`; 404 DAPR_SCHEDULER_GET_JOB when there is none. */
export async function getJob(
  ctx: ApiContext,
  request: { name: string | undefined },
): Promise<JobView> {
  const scheduler = schedulerOf(ctx);
  const name = checkName(ctx, request.name);
  let job: ScheduledJob | undefined;
  try {
    job = await scheduler.get(jobPrefix(ctx) + name);
  } catch (error) {
    throw fail(ctx, "JOB_GET", { error: errorMessage(error) }, error);
  }
  if (!job) throw fail(ctx, "JOB_NOT_FOUND", { name });
  return toView(jobPrefix(ctx), job);
}

/** Deletes this app's job `name`; deleting a job that does not exist succeeds, as in Dapr. */
export async function deleteJob(
  ctx: ApiContext,
  request: { name: string | undefined },
): Promise<void> {
  const scheduler = schedulerOf(ctx);
  const name = checkName(ctx, request.name);
  try {
    await scheduler.delete(jobPrefix(ctx) + name);
  } catch (error) {
    throw fail(ctx, "JOB_DELETE", { error: errorMessage(error) }, error);
  }
}

/** Deletes this app's jobs whose names start with `prefix` (all of them when it is empty). */
export async function deleteJobsByPrefix(
  ctx: ApiContext,
  request: { prefix?: string | undefined },
): Promise<void> {
  const scheduler = schedulerOf(ctx);
  try {
    await scheduler.deleteByPrefix(jobPrefix(ctx) + (request.prefix ?? ""));
  } catch (error) {
    throw fail(ctx, "JOB_DELETE", { error: errorMessage(error) }, error);
  }
}

/** This app's jobs, by name. */
export async function listJobs(ctx: ApiContext): Promise<JobView[]> {
  const scheduler = schedulerOf(ctx);
  try {
    const prefix = jobPrefix(ctx);
    return (await scheduler.list(prefix)).map((j) => toView(prefix, j));
  } catch (error) {
    if (isApiError(error)) throw error;
    throw fail(ctx, "JOB_LIST", { error: errorMessage(error) }, error);
  }
}

/**
 * The JSON an HTTP app receives (and HTTP GET shows) for a job's data: the JSON value as given;
 * for protobuf data, a google.protobuf.Value's JSON where `valueJson` can decode it, else the
 * Any's JSON form `{"@type", "value"}` with the bytes in base64.
 */
export function jobDataJson(
  data: JobData | undefined,
  valueJson?: (any: { typeUrl: string; value: Uint8Array }) => unknown,
): string | undefined {
  if (data === undefined) return undefined;
  if ("json" in data) return data.json;
  const decoded = valueJson?.(data);
  if (decoded !== undefined) return JSON.stringify(decoded);
  return JSON.stringify({
    "@type": data.typeUrl,
    value: Buffer.from(data.value).toString("base64"),
  });
}

/**
 * Delivers this app's due jobs to the app: HTTP `POST /job/{name}` with the data as JSON (2xx is
 * success), or over gRPC AppCallback.OnJobEvent (OnJobEventAlpha1 for apps without it). A
 * failure, a timeout or no app at all is a failed tick, which the job's failure policy retries.
 */
export function jobTrigger(
  ctx: ApiContext,
  options: {
    timeoutMs: number;
    /** The gRPC app channel's decoder of google.protobuf.Value Anys, for HTTP apps. */
    valueJson?: (any: { typeUrl: string; value: Uint8Array }) => unknown;
    /** Traces each trigger (a `job/<name>` span); absent while tracing is off. */
    tracing?: SidecarTracing | undefined;
  },
): TriggerHandler {
  const prefix = jobPrefix(ctx);
  const deliver = async (
    name: string,
    data: JobData | undefined,
    attempt: number,
    trace: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; detail?: string }> => {
    if (ctx.grpcApp) {
      await ctx.grpcApp.onJobEvent(name, data, options.timeoutMs, signal, trace);
      return { ok: true };
    }
    if (!ctx.app) {
      ctx.logger.warn("job triggered but there is no app to deliver it to", { job: name });
      return { ok: false, detail: "no app" };
    }
    const body = jobDataJson(data, options.valueJson) ?? "";
    const response = await ctx.app.request({
      method: "POST",
      path: `/job/${encodeURIComponent(name)}`,
      headers: { "content-type": "application/json", ...trace },
      body,
      timeoutMs: options.timeoutMs,
      signal,
    });
    if (response.status >= 200 && response.status < 300) return { ok: true };
    ctx.logger.warn("the app failed a job trigger; the failure policy applies", {
      job: name,
      status: response.status,
      attempt,
    });
    return { ok: false, detail: String(response.status) };
  };
  return async (trigger, signal) => {
    const name = trigger.key.slice(prefix.length);
    const data = decodeData(trigger.payload);
    const tracing = options.tracing;
    if (!tracing) return (await deliver(name, data, trigger.attempt, {}, signal)).ok;
    // The app is called at `job/<name>` (OnJobEvent's method, the HTTP route): the span is
    // named for it, a new trace each tick, as a schedule carries no caller's context.
    const span = tracing.start(
      `job/${name}`,
      SpanKind.CLIENT,
      {},
      {
        "dapr.protocol": ctx.grpcApp ? "grpc" : "http",
        "dapr.api": ctx.grpcApp
          ? "/dapr.proto.runtime.v1.AppCallback/OnJobEvent"
          : `POST /job/${encodeURIComponent(name)}`,
        "dapr.job.name": name,
      },
    );
    try {
      const result = await deliver(name, data, trigger.attempt, tracing.headers(span), signal);
      endSpan(span, !result.ok, result.detail);
      return result.ok;
    } catch (error) {
      endSpan(span, true, (error as Error).message);
      throw error;
    }
  };
}
