import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import type { Logger, Metadata, SetRequest } from "@outrig/core";
import type { JobData } from "../api/jobs.ts";
import { storeValue } from "../api/state.ts";
import {
  APP_CALL_TIMEOUT_MS,
  type AppCallbacks,
  type BindingDelivery,
  type BindingReply,
  type BulkDelivery,
  type BulkResult,
  callSignal,
  type DeliveryResult,
  type InputBindingRoute,
  type Outcome,
  type TopicDelivery,
} from "../app/callbacks.ts";
import { Semaphore } from "../lifecycle/semaphore.ts";
import { CLOUDEVENT_CONTENT_TYPE, isJsonContentType } from "../messaging/cloudevent.ts";
import { type Subscription, subscriptionMetadata } from "../messaging/subscriptions.ts";
import type { InvokeRequest__Output } from "./generated/dapr/proto/common/v1/InvokeRequest.ts";
import type { InvokeResponse__Output } from "./generated/dapr/proto/common/v1/InvokeResponse.ts";
import type { AppCallbackClient } from "./generated/dapr/proto/runtime/v1/AppCallback.ts";
import type { AppCallbackAlphaClient } from "./generated/dapr/proto/runtime/v1/AppCallbackAlpha.ts";
import type { AppCallbackHealthCheckClient } from "./generated/dapr/proto/runtime/v1/AppCallbackHealthCheck.ts";
import type { JobEventRequest } from "./generated/dapr/proto/runtime/v1/JobEventRequest.ts";
import type { TopicEventBulkRequest } from "./generated/dapr/proto/runtime/v1/TopicEventBulkRequest.ts";
import type { TopicEventBulkResponse__Output } from "./generated/dapr/proto/runtime/v1/TopicEventBulkResponse.ts";
import type { TopicEventCERequest } from "./generated/dapr/proto/runtime/v1/TopicEventCERequest.ts";
import type { TopicSubscription__Output } from "./generated/dapr/proto/runtime/v1/TopicSubscription.ts";
import type { Struct } from "./generated/google/protobuf/Struct.ts";
import type { Value } from "./generated/google/protobuf/Value.ts";
import { dataToAny } from "./jobs.ts";
import { daprProtos } from "./protos.ts";

export interface GrpcAppChannelOptions {
  /** app-max-concurrency, shared with the app's other calls. Default unlimited. */
  limit?: Semaphore | undefined;
  logger?: Logger | undefined;
}

type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
type Start<T> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: Callback<T>,
) => grpc.ClientUnaryCall;

/**
 * The sidecar's gRPC connection to an app served over gRPC (`appProtocol: "grpc"`): calls its
 * `dapr.proto.runtime.v1.AppCallback` (and AppCallbackAlpha, AppCallbackHealthCheck) over one
 * HTTP/2 channel, with APP_API_TOKEN as `dapr-api-token` metadata of every call.
 */
export class GrpcAppChannel implements AppCallbacks {
  readonly protocol = "grpc";
  readonly #channel: grpc.Channel;
  readonly #client: AppCallbackClient;
  readonly #alpha: AppCallbackAlphaClient;
  readonly #health: AppCallbackHealthCheckClient;
  readonly #token: string | undefined;
  readonly #limit: Semaphore;
  readonly #logger: Logger | undefined;
  readonly #closed = new AbortController();
  /** Set once the app answers OnBulkTopicEvent UNIMPLEMENTED (the JS SDK has only Alpha1). */
  #bulkAlpha = false;
  /** Set once the app answers OnJobEvent UNIMPLEMENTED: it only has OnJobEventAlpha1. */
  #jobsAlpha = false;

  constructor(
    host: string,
    port: number,
    token: string | undefined,
    options: GrpcAppChannelOptions = {},
  ) {
    const { appCallback } = daprProtos();
    const v1 = appCallback.dapr.proto.runtime.v1;
    const address = `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
    this.#channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {
      // grpc-js backs off up to 120 s between connection attempts by default; an app that starts
      // late (or restarts) must be reached within a second, as the HTTP channel dials every 100 ms.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    });
    const shared = { channelOverride: this.#channel };
    this.#client = new v1.AppCallback(address, grpc.credentials.createInsecure(), shared);
    this.#alpha = new v1.AppCallbackAlpha(address, grpc.credentials.createInsecure(), shared);
    this.#health = new v1.AppCallbackHealthCheck(
      address,
      grpc.credentials.createInsecure(),
      shared,
    );
    this.#token = token;
    this.#limit = options.limit ?? new Semaphore(undefined);
    this.#logger = options.logger;
  }

  /** One unary call: token metadata, deadline, app-max-concurrency, cancelled with `signal`. */
  #call<T>(
    start: Start<T>,
    headers: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal,
    limited = true,
  ): Promise<T> {
    const run = (): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const aborted = callSignal(signal, this.#closed.signal, timeoutMs);
        if (aborted.aborted) {
          reject(aborted.reason);
          return;
        }
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
        if (this.#token) metadata.set("dapr-api-token", this.#token);
        const cancel = (): void => call.cancel();
        const call = start(metadata, { deadline: Date.now() + timeoutMs }, (error, response) => {
          aborted.removeEventListener("abort", cancel);
          if (error || response === undefined) reject(error ?? new Error("no answer"));
          else resolve(response);
        });
        aborted.addEventListener("abort", cancel, { once: true });
      });
    return limited ? this.#limit.run(run) : run();
  }

  /** AppCallback.OnInvoke; cancelled with `signal`, failing after `timeoutMs`. */
  invoke(
    request: InvokeRequest__Output,
    headers: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<InvokeResponse__Output> {
    // The invocation path applies app-max-concurrency itself.
    return this.#call<InvokeResponse__Output>(
      (m, o, cb) => this.#client.OnInvoke(request, m, o, cb),
      headers,
      timeoutMs,
      signal,
      false,
    );
  }

  /**
   * Polls AppCallbackHealthCheck.HealthCheck every 100 ms until it answers. An app without that
   * service (UNIMPLEMENTED) is serving gRPC, so it counts as ready too.
   */
  async ready(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#call(
          (m, o, cb) => this.#health.HealthCheck({}, m, o, cb),
          {},
          1000,
          signal,
          false,
        );
        return;
      } catch (error) {
        if ((error as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) {
          this.#logger?.debug("the app has no AppCallbackHealthCheck; it answers gRPC, so ready");
          return;
        }
      }
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
    throw new Error("stopped while waiting for the app's gRPC health check");
  }

  /**
   * One app health probe (daprd's `--enable-app-health-check`): AppCallbackHealthCheck answers OK
   * within `timeoutMs`. It bypasses app-max-concurrency, so a busy app is not taken for a dead one.
   */
  async healthCheck(timeoutMs: number): Promise<boolean> {
    try {
      await this.#call(
        (m, o, cb) => this.#health.HealthCheck({}, m, o, cb),
        {},
        timeoutMs,
        this.#closed.signal,
        false,
      );
      return true;
    } catch {
      return false;
    }
  }

  async subscriptions(signal: AbortSignal): Promise<Subscription[]> {
    try {
      const response = await this.#call<{ subscriptions: TopicSubscription__Output[] }>(
        (m, o, cb) => this.#client.ListTopicSubscriptions({}, m, o, cb),
        {},
        10_000,
        signal,
      );
      return response.subscriptions.flatMap((s) => fromTopicSubscription(s, this.#logger));
    } catch (error) {
      if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
        this.#logger?.warn("cannot read the app's subscriptions (ListTopicSubscriptions)", {
          error: (error as Error).message,
        });
      }
      return [];
    }
  }

  async inputBindings(
    candidates: readonly InputBindingRoute[],
    signal: AbortSignal,
  ): Promise<Set<string>> {
    try {
      const response = await this.#call<{ bindings: string[] }>(
        (m, o, cb) => this.#client.ListInputBindings({}, m, o, cb),
        {},
        10_000,
        signal,
      );
      const listed = new Set(response.bindings);
      return new Set(candidates.map((c) => c.name).filter((name) => listed.has(name)));
    } catch (error) {
      if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) {
        this.#logger?.warn("cannot read the app's input bindings (ListInputBindings)", {
          error: (error as Error).message,
        });
      }
      return new Set();
    }
  }

  /** OnTopicEvent. UNIMPLEMENTED is DROP, as daprd reads it; any other failure is retried. */
  async topicEvent(delivery: TopicDelivery, signal: AbortSignal): Promise<DeliveryResult> {
    const e = delivery.event;
    const request = {
      ...cloudEventFields(e),
      topic: delivery.topic,
      pubsubName: delivery.pubsubname,
      path: delivery.path,
    };
    try {
      const response = await this.#call<{ status: string }>(
        (m, o, cb) => this.#client.OnTopicEvent(request, m, o, cb),
        messageMetadata(delivery.metadata, delivery.trace ?? e),
        APP_CALL_TIMEOUT_MS,
        signal,
      );
      return { outcome: outcomeOf(response.status), detail: `status ${response.status}` };
    } catch (error) {
      if ((error as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED)
        return { outcome: "DROP", detail: "OnTopicEvent is UNIMPLEMENTED" };
      throw error;
    }
  }

  /** OnBulkTopicEvent, falling back to AppCallbackAlpha.OnBulkTopicEventAlpha1. */
  async bulkTopicEvent(delivery: BulkDelivery, signal: AbortSignal): Promise<BulkResult> {
    const request: TopicEventBulkRequest = {
      id: delivery.id,
      type: "com.dapr.event.sent.bulk",
      topic: delivery.topic,
      pubsubName: delivery.pubsubname,
      path: delivery.path,
      metadata: delivery.metadata,
      entries: delivery.entries.map((entry) =>
        delivery.raw
          ? {
              entryId: entry.entryId,
              bytes: Buffer.from(String(entry.event.data_base64 ?? ""), "base64"),
              contentType: "application/octet-stream",
              metadata: entry.metadata,
            }
          : {
              entryId: entry.entryId,
              cloudEvent: cloudEventFields(entry.event),
              contentType: CLOUDEVENT_CONTENT_TYPE,
              metadata: entry.metadata,
            },
      ),
    };
    const send = (alpha: boolean): Promise<TopicEventBulkResponse__Output> =>
      this.#call<TopicEventBulkResponse__Output>(
        (m, o, cb) =>
          alpha
            ? this.#alpha.OnBulkTopicEventAlpha1(request, m, o, cb)
            : this.#client.OnBulkTopicEvent(request, m, o, cb),
        {},
        APP_CALL_TIMEOUT_MS,
        signal,
      );
    const unimplemented = (error: unknown): boolean =>
      (error as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED;
    let response: TopicEventBulkResponse__Output;
    try {
      response = await send(this.#bulkAlpha);
    } catch (error) {
      if (!unimplemented(error)) throw error;
      if (this.#bulkAlpha) return { all: "DROP", statuses: new Map() };
      this.#bulkAlpha = true;
      try {
        response = await send(true);
      } catch (alphaError) {
        if (unimplemented(alphaError)) return { all: "DROP", statuses: new Map() };
        throw alphaError;
      }
    }
    return {
      statuses: new Map(response.statuses.map((s) => [s.entryId, outcomeOf(s.status)])),
    };
  }

  /**
   * Delivers a due job: AppCallback.OnJobEvent (Dapr 1.18), else, once the app answers that
   * UNIMPLEMENTED, AppCallbackAlpha.OnJobEventAlpha1 (the JS SDK has only this one).
   */
  async onJobEvent(
    name: string,
    data: JobData | undefined,
    timeoutMs: number,
    signal: AbortSignal,
    /** The trigger span's trace context, sent as metadata. */
    trace: Record<string, string> = {},
  ): Promise<void> {
    const request: JobEventRequest = {
      name,
      data: dataToAny(data),
      method: `job/${name}`,
      contentType: "application/json",
      httpExtension: { verb: "POST" },
    };
    // The pinned proto has no AppCallback.OnJobEvent: the same messages under its method path.
    const stable =
      daprProtos().appCallback.dapr.proto.runtime.v1.AppCallbackAlpha.service.OnJobEventAlpha1;
    const send = (alpha: boolean): Promise<unknown> =>
      this.#call<unknown>(
        (m, o, cb) =>
          alpha
            ? this.#alpha.OnJobEventAlpha1(request, m, o, cb)
            : this.#client.makeUnaryRequest(
                "/dapr.proto.runtime.v1.AppCallback/OnJobEvent",
                stable.requestSerialize as (r: JobEventRequest) => Buffer,
                stable.responseDeserialize as (b: Buffer) => unknown,
                request,
                m,
                o,
                cb as grpc.requestCallback<unknown>,
              ),
        trace,
        timeoutMs,
        signal,
      );
    if (!this.#jobsAlpha) {
      try {
        await send(false);
        return;
      } catch (error) {
        if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw error;
        this.#jobsAlpha = true;
      }
    }
    await send(true);
  }

  /** OnBindingEvent; its answer is the legacy reply (state to save, data for output bindings). */
  async bindingEvent(delivery: BindingDelivery, signal: AbortSignal): Promise<BindingReply> {
    const response = await this.#call<{
      storeName: string;
      states: {
        key: string;
        value: Buffer;
        etag: { value: string } | null;
        metadata: Record<string, string>;
      }[];
      to: string[];
      data: Buffer;
      concurrency: string;
    }>(
      (m, o, cb) =>
        this.#client.OnBindingEvent(
          { name: delivery.name, data: Buffer.from(delivery.data), metadata: delivery.metadata },
          m,
          o,
          cb,
        ),
      grpcSafe(delivery.metadata),
      APP_CALL_TIMEOUT_MS,
      signal,
    );
    const states: SetRequest[] = response.states
      .filter((s) => s.key)
      .map((s) => ({
        key: s.key,
        value: storeValue(new Uint8Array(s.value), s.metadata, s.key),
        ...(s.etag?.value ? { etag: s.etag.value } : {}),
        ...(Object.keys(s.metadata).length > 0 ? { metadata: s.metadata } : {}),
      }));
    const data = response.data.length > 0 ? new Uint8Array(response.data) : undefined;
    return {
      ...(response.storeName ? { storeName: response.storeName } : {}),
      states,
      to: response.to,
      data,
      concurrency: response.concurrency === "PARALLEL" ? "parallel" : "sequential",
      response: data,
    };
  }

  async close(): Promise<void> {
    this.#closed.abort(new Error("the app channel is closed"));
    this.#client.close();
    this.#alpha.close();
    this.#health.close();
    this.#channel.close();
  }
}

/** TopicEventResponseStatus as an outcome; an unknown status is retried, as daprd does. */
function outcomeOf(status: string): Outcome {
  return status === "SUCCESS" || status === "RETRY" || status === "DROP" ? status : "RETRY";
}

/** A TopicSubscription as a Subscription; without routes, every message goes to path "". */
function fromTopicSubscription(
  s: TopicSubscription__Output,
  logger: Logger | undefined,
): Subscription[] {
  if (!s.pubsubName || !s.topic) {
    logger?.warn("ignoring a subscription without pubsubname or topic");
    return [];
  }
  const rules = (s.routes?.rules ?? [])
    .filter((r) => r.path !== "")
    .map((r) => ({ match: r.match, path: r.path }));
  if (s.routes?.default || rules.length === 0)
    rules.push({ match: "", path: s.routes?.default ?? "" });
  const bulk = s.bulkSubscribe;
  return [
    {
      pubsubname: s.pubsubName,
      topic: s.topic,
      rules,
      deadLetterTopic: s.deadLetterTopic || undefined,
      metadata: subscriptionMetadata(s.metadata),
      bulkSubscribe: bulk
        ? {
            enabled: bulk.enabled,
            ...(bulk.maxMessagesCount > 0 ? { maxMessagesCount: bulk.maxMessagesCount } : {}),
            ...(bulk.maxAwaitDurationMs > 0 ? { maxAwaitDurationMs: bulk.maxAwaitDurationMs } : {}),
          }
        : undefined,
      type: "PROGRAMMATIC",
    },
  ];
}

/** CloudEvent attributes with fields of their own in TopicEventRequest; the rest are extensions. */
const CLOUDEVENT_FIELDS = new Set([
  "id",
  "source",
  "type",
  "specversion",
  "datacontenttype",
  "data",
  "data_base64",
]);

/**
 * The CloudEvent as TopicEventCERequest fields, as daprd sends them: `data_base64` decoded;
 * `data` as its text when the content type is not JSON and it is a string, else as JSON.
 */
function cloudEventFields(e: Record<string, unknown>): TopicEventCERequest {
  const text = (name: string): string => (typeof e[name] === "string" ? (e[name] as string) : "");
  const contentType = text("datacontenttype");
  let data: Buffer = Buffer.alloc(0);
  if (typeof e.data_base64 === "string") data = Buffer.from(e.data_base64, "base64");
  else if (e.data !== undefined) {
    data =
      typeof e.data === "string" && !isJsonContentType(contentType)
        ? Buffer.from(e.data, "utf8")
        : Buffer.from(JSON.stringify(e.data), "utf8");
  }
  const fields: Record<string, Value> = {};
  for (const [k, v] of Object.entries(e)) if (!CLOUDEVENT_FIELDS.has(k)) fields[k] = toValue(v);
  return {
    id: text("id"),
    source: text("source"),
    type: text("type"),
    specVersion: text("specversion"),
    dataContentType: contentType,
    data,
    extensions: { fields } satisfies Struct,
  };
}

function toValue(v: unknown): Value {
  if (v === null || v === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "number") return { numberValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === "object") {
    const fields: Record<string, Value> = {};
    for (const [k, x] of Object.entries(v)) fields[k] = toValue(x);
    return { structValue: { fields } };
  }
  return { stringValue: String(v) };
}

/** Metadata entries gRPC can carry: legal lowercase keys (not reserved) and printable values. */
function grpcSafe(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const k = key.toLowerCase();
    if (!/^[0-9a-z_.-]+$/.test(k) || k.startsWith("grpc-") || k.endsWith("-bin")) continue;
    if (k === "dapr-api-token" || !/^[\x20-\x7e]*$/.test(value)) continue;
    out[k] = value;
  }
  return out;
}

/**
 * The broker message's metadata and a trace context (the delivery span's, else the event's own),
 * as gRPC metadata.
 */
function messageMetadata(
  metadata: Metadata,
  trace: { traceparent?: unknown; tracestate?: unknown },
): Record<string, string> {
  const out = grpcSafe(metadata);
  for (const k of ["traceparent", "tracestate"] as const) {
    const v = trace[k];
    if (typeof v === "string" && v && /^[\x20-\x7e]*$/.test(v)) out[k] = v;
  }
  return out;
}
