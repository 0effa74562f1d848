import type * as grpc from "@grpc/grpc-js";
import { parseDuration } from "@outrig/core";
import protobuf from "protobufjs";
import type { ApiContext } from "../api/context.ts";
import {
  deleteJob,
  deleteJobsByPrefix,
  getJob,
  type JobData,
  type JobView,
  listJobs,
  noJob,
  scheduleJob,
} from "../api/jobs.ts";
import type { FailurePolicy } from "../scheduler/spec.ts";
import type { JobFailurePolicy__Output } from "./generated/dapr/proto/common/v1/JobFailurePolicy.ts";
import type { DeleteJobRequest__Output } from "./generated/dapr/proto/runtime/v1/DeleteJobRequest.ts";
import type { DeleteJobsByPrefixRequestAlpha1__Output } from "./generated/dapr/proto/runtime/v1/DeleteJobsByPrefixRequestAlpha1.ts";
import type { GetJobRequest__Output } from "./generated/dapr/proto/runtime/v1/GetJobRequest.ts";
import type { Job } from "./generated/dapr/proto/runtime/v1/Job.ts";
import type { ScheduleJobRequest__Output } from "./generated/dapr/proto/runtime/v1/ScheduleJobRequest.ts";
import type { Any__Output } from "./generated/google/protobuf/Any.ts";

// Decoding and encoding only: the job rules live in ../api/jobs.ts.

const VALUE_TYPE_URL = "type.googleapis.com/google.protobuf.Value";

let valueType: protobuf.Type | undefined;
function protobufValue(): protobuf.Type {
  valueType ??= protobuf.Root.fromJSON(
    protobuf.common.get("google/protobuf/struct.proto") as protobuf.INamespace,
  ).lookupType("google.protobuf.Value");
  return valueType;
}

type ValueObject =
  | { nullValue: 0 }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: { fields: Record<string, ValueObject> } }
  | { listValue: { values: ValueObject[] } };

function toValue(json: unknown): ValueObject {
  if (json === null || json === undefined) return { nullValue: 0 };
  if (typeof json === "number") return { numberValue: json };
  if (typeof json === "string") return { stringValue: json };
  if (typeof json === "boolean") return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map(toValue) } };
  return {
    structValue: {
      fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, toValue(v)])),
    },
  };
}

function fromValue(v: Record<string, unknown>): unknown {
  if ("numberValue" in v) return v.numberValue;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("structValue" in v) {
    const fields = ((v.structValue as { fields?: Record<string, Record<string, unknown>> })
      .fields ?? {}) as Record<string, Record<string, unknown>>;
    return Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fromValue(f)]));
  }
  if ("listValue" in v) {
    const values = ((v.listValue as { values?: Record<string, unknown>[] }).values ?? []) as Record<
      string,
      unknown
    >[];
    return values.map(fromValue);
  }
  return null;
}

/** A JSON value as the Any that gRPC clients read: a google.protobuf.Value. */
export function jsonToAny(json: string): { type_url: string; value: Buffer } {
  const type = protobufValue();
  return {
    type_url: VALUE_TYPE_URL,
    value: Buffer.from(type.encode(type.fromObject(toValue(JSON.parse(json)))).finish()),
  };
}

/** The JSON of an Any holding a google.protobuf.Value; undefined for any other type. */
export function anyValueJson(any: { typeUrl: string; value: Uint8Array }): unknown {
  if (any.typeUrl !== VALUE_TYPE_URL) return undefined;
  try {
    const type = protobufValue();
    return fromValue(type.toObject(type.decode(any.value), { oneofs: false }));
  } catch {
    return undefined;
  }
}

/** A job's data as a gRPC Any. */
export function dataToAny(data: JobData | undefined): { type_url: string; value: Buffer } | null {
  if (data === undefined) return null;
  if ("json" in data) return jsonToAny(data.json);
  return { type_url: data.typeUrl, value: Buffer.from(data.value) };
}

function anyToData(any: Any__Output | null): JobData | undefined {
  if (!any || (any.type_url === "" && any.value.length === 0)) return undefined;
  return { typeUrl: any.type_url, value: any.value };
}

function durationText(d: { seconds: string; nanos: number } | null): string | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  return `${ms}ms`;
}

/** A gRPC JobFailurePolicy (jobs, actor reminders) as the scheduler reads it. */
export function policyIn(
  p: JobFailurePolicy__Output | null | undefined,
): FailurePolicy | undefined {
  if (!p?.policy) return undefined;
  if (p.policy === "drop") return { drop: {} };
  const c = p.constant;
  return {
    constant: {
      ...(c?.interval ? { interval: durationText(c.interval) } : {}),
      ...(c?.maxRetries !== undefined && c?.maxRetries !== null
        ? { maxRetries: c.maxRetries }
        : {}),
    },
  };
}

function policyOut(p: FailurePolicy | undefined): Job["failurePolicy"] {
  if (!p) return null;
  if ("drop" in p) return { drop: {} };
  const ms = parseDuration(p.constant.interval ?? "0s") ?? 0;
  return {
    constant: {
      interval: { seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) },
      ...(p.constant.maxRetries !== undefined ? { maxRetries: p.constant.maxRetries } : {}),
    },
  };
}

const present = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function jobOut(j: JobView): Job {
  return {
    name: j.name,
    ...(j.schedule !== undefined ? { schedule: j.schedule } : {}),
    ...(j.repeats !== undefined ? { repeats: j.repeats } : {}),
    ...(j.dueTime !== undefined ? { dueTime: j.dueTime } : {}),
    ...(j.ttl !== undefined ? { ttl: j.ttl } : {}),
    data: dataToAny(j.data),
    failurePolicy: policyOut(j.failurePolicy),
  };
}

type Method = (
  ctx: ApiContext,
  request: never,
  call: grpc.ServerUnaryCall<never, unknown>,
) => Promise<unknown>;

const schedule: Method = async (ctx, r: ScheduleJobRequest__Output) => {
  if (!r.job) throw noJob(ctx);
  const job = r.job;
  await scheduleJob(ctx, {
    name: job.name,
    data: anyToData(job.data),
    schedule: present(job.schedule),
    dueTime: present(job.dueTime),
    repeats: present(job.repeats),
    ttl: present(job.ttl),
    failurePolicy: policyIn(job.failurePolicy),
    overwrite: r.overwrite,
  });
  return {};
};

const get: Method = async (ctx, r: GetJobRequest__Output) => ({
  job: jobOut(await getJob(ctx, { name: r.name })),
});

const del: Method = async (ctx, r: DeleteJobRequest__Output) => {
  await deleteJob(ctx, { name: r.name });
  return {};
};

const delPrefix: Method = async (ctx, r: DeleteJobsByPrefixRequestAlpha1__Output) => {
  await deleteJobsByPrefix(ctx, { prefix: present(r.namePrefix) });
  return {};
};

const list: Method = async (ctx) => ({ jobs: (await listJobs(ctx)).map(jobOut) });

/** The Jobs methods of `dapr.proto.runtime.v1.Dapr`, stable (Dapr 1.18) and `…Alpha1` alike. */
export const JOB_METHODS = {
  ScheduleJobAlpha1: schedule,
  GetJobAlpha1: get,
  DeleteJobAlpha1: del,
  DeleteJobsByPrefixAlpha1: delPrefix,
  ListJobsAlpha1: list,
  ScheduleJob: schedule,
  GetJob: get,
  DeleteJob: del,
  DeleteJobsByPrefix: delPrefix,
  ListJobs: list,
} satisfies Record<string, Method>;

/**
 * The stable Jobs methods (Dapr 1.18) beside the `…Alpha1` ones the pinned proto defines: the
 * same messages on the wire, under the stable method paths.
 */
export function withStableJobMethods(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service };
  for (const stable of ["ScheduleJob", "GetJob", "DeleteJob", "DeleteJobsByPrefix", "ListJobs"]) {
    const alpha = service[`${stable}Alpha1`];
    if (!alpha || service[stable]) continue;
    out[stable] = {
      ...alpha,
      path: alpha.path.replace(/Alpha1$/, ""),
      originalName: stable.charAt(0).toLowerCase() + stable.slice(1),
    };
  }
  return out as grpc.ServiceDefinition;
}
