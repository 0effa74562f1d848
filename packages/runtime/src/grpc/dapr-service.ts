import type * as grpc from "@grpc/grpc-js";
import type { Metadata } from "@outrig/core";
import { invokeBinding } from "../api/bindings.ts";
import type { ApiContext } from "../api/context.ts";
import { apiError, unimplementedApiOf } from "../api/errors.ts";
import { tryLock, unlock } from "../api/lock.ts";
import { getMetadata, setMetadata, shutdown } from "../api/metadata.ts";
import { bulkPublish, publish } from "../api/pubsub.ts";
import { getBulkSecret, getSecret } from "../api/secrets.ts";
import {
  type StateItemInput,
  type StateOptionsInput,
  stateBulkDelete,
  stateBulkGet,
  stateDelete,
  stateGet,
  stateQuery,
  stateSave,
  stateTransaction,
} from "../api/state.ts";
import {
  getConfigurationMethod,
  subscribeConfigurationStream,
  unsubscribeConfigurationMethod,
} from "./configuration.ts";
import { converseAlpha1Method, converseAlpha2Method } from "./conversation.ts";
import type { StateItem__Output } from "./generated/dapr/proto/common/v1/StateItem.ts";
import type { StateOptions__Output } from "./generated/dapr/proto/common/v1/StateOptions.ts";
import type { DaprHandlers } from "./generated/dapr/proto/runtime/v1/Dapr.ts";
import type { GetMetadataResponse } from "./generated/dapr/proto/runtime/v1/GetMetadataResponse.ts";
import { invokeService } from "./invoke-service.ts";

/** The `Dapr` methods outrig serves; every other one is answered UNIMPLEMENTED by the server. */
export type ServedMethods = Pick<
  DaprHandlers,
  | "GetState"
  | "GetBulkState"
  | "SaveState"
  | "QueryStateAlpha1"
  | "DeleteState"
  | "DeleteBulkState"
  | "ExecuteStateTransaction"
  | "PublishEvent"
  | "BulkPublishEvent"
  | "BulkPublishEventAlpha1"
  | "InvokeBinding"
  | "InvokeService"
  | "GetSecret"
  | "GetBulkSecret"
  | "GetMetadata"
  | "SetMetadata"
  | "Shutdown"
  | "GetConfiguration"
  | "GetConfigurationAlpha1"
  | "UnsubscribeConfiguration"
  | "UnsubscribeConfigurationAlpha1"
  | "TryLockAlpha1"
  | "UnlockAlpha1"
  | "ConverseAlpha1"
  | "ConverseAlpha2"
>;

/** The server-streaming `Dapr` methods outrig serves. */
export type ServedStreams = Pick<
  DaprHandlers,
  "SubscribeConfiguration" | "SubscribeConfigurationAlpha1"
>;

/** A server-streaming method body: decode the request, call the API core, write the stream. */
export type ServerStream = (ctx: ApiContext, call: grpc.ServerWritableStream<never, never>) => void;

/** A unary method body: decode the request, call the API core, encode the answer. */
export type Unary<Req, Res> = (
  ctx: ApiContext,
  request: Req,
  call: grpc.ServerUnaryCall<Req, Res>,
) => Promise<Res>;

// ---- Decoding: proto messages to the API core's request types (no rules here) ----

const CONCURRENCY: Record<string, string> = {
  CONCURRENCY_FIRST_WRITE: "first-write",
  CONCURRENCY_LAST_WRITE: "last-write",
};
const CONSISTENCY: Record<string, string> = {
  CONSISTENCY_EVENTUAL: "eventual",
  CONSISTENCY_STRONG: "strong",
};

function options(o: StateOptions__Output | null): StateOptionsInput | undefined {
  if (!o) return undefined;
  return {
    concurrency: CONCURRENCY[o.concurrency as string],
    consistency: CONSISTENCY[o.consistency as string],
  };
}

function item(i: StateItem__Output | null): StateItemInput {
  return {
    key: i?.key,
    value: i?.value,
    etag: i?.etag ?? undefined,
    metadata: i?.metadata ?? {},
    options: options(i?.options ?? null),
  };
}

function traceOf(call: { metadata: grpc.Metadata }): { traceparent?: string; tracestate?: string } {
  const tp = call.metadata.get("traceparent")[0];
  const ts = call.metadata.get("tracestate")[0];
  return {
    ...(typeof tp === "string" && tp ? { traceparent: tp } : {}),
    ...(typeof ts === "string" && ts ? { tracestate: ts } : {}),
  };
}

// ---- Encoding: the metadata document as GetMetadataResponse (the same document as HTTP's) ----

function metadataResponse(doc: Record<string, unknown>): GetMetadataResponse {
  const d = doc as {
    id: string;
    runtimeVersion: string;
    enabledFeatures: string[];
    components: { name: string; type: string; version: string; capabilities: string[] }[];
    httpEndpoints: { name: string }[];
    subscriptions: {
      pubsubname: string;
      topic: string;
      metadata?: Record<string, string>;
      rules: { match?: string; path: string }[];
      deadLetterTopic: string;
      type: string;
    }[];
    extended: Record<string, string>;
    actorRuntime?: {
      runtimeStatus: string;
      hostReady: boolean;
      placement: string;
      activeActors: { type: string; count: number }[];
    };
    appConnectionProperties: {
      port?: number;
      protocol: string;
      channelAddress: string;
      maxConcurrency?: number;
      health?: { healthCheckPath?: string };
    };
  };
  const app = d.appConnectionProperties;
  return {
    id: d.id,
    runtimeVersion: d.runtimeVersion,
    enabledFeatures: d.enabledFeatures,
    registeredComponents: d.components,
    httpEndpoints: d.httpEndpoints,
    subscriptions: d.subscriptions.map((s) => ({
      pubsubName: s.pubsubname,
      topic: s.topic,
      metadata: s.metadata ?? {},
      rules: { rules: s.rules.map((r) => ({ match: r.match ?? "", path: r.path })) },
      deadLetterTopic: s.deadLetterTopic,
      type: s.type as "DECLARATIVE" | "PROGRAMMATIC" | "STREAMING",
    })),
    extendedMetadata: d.extended,
    ...(d.actorRuntime
      ? {
          activeActorsCount: d.actorRuntime.activeActors,
          actorRuntime: {
            runtimeStatus: d.actorRuntime.runtimeStatus as "RUNNING" | "INITIALIZING" | "DISABLED",
            activeActors: d.actorRuntime.activeActors,
            hostReady: d.actorRuntime.hostReady,
            placement: d.actorRuntime.placement,
          },
        }
      : {}),
    appConnectionProperties: {
      port: app.port ?? 0,
      protocol: app.protocol,
      channelAddress: app.channelAddress,
      maxConcurrency: app.maxConcurrency ?? 0,
      ...(app.health ? { health: { healthCheckPath: app.health.healthCheckPath ?? "" } } : {}),
    },
  };
}

const meta = (m: Record<string, string> | undefined): Metadata => m ?? {};

/** The served methods, each a thin adapter over the API core. */
export const DAPR_METHODS: { [K in keyof ServedMethods]: Unary<never, unknown> } = {
  GetState: (async (ctx, r: Parameters<ServedMethods["GetState"]>[0]["request"]) => {
    const got = await stateGet(ctx, {
      store: r.storeName,
      key: r.key,
      metadata: meta(r.metadata),
      consistency: CONSISTENCY[r.consistency as string],
    });
    return {
      data: got.data ? Buffer.from(got.data) : Buffer.alloc(0),
      etag: got.etag ?? "",
      metadata: got.metadata ?? {},
    };
  }) as Unary<never, unknown>,
  GetBulkState: (async (ctx, r: Parameters<ServedMethods["GetBulkState"]>[0]["request"]) => {
    const items = await stateBulkGet(ctx, {
      store: r.storeName,
      keys: r.keys,
      metadata: meta(r.metadata),
      ...(r.parallelism > 0 ? { parallelism: r.parallelism } : {}),
    });
    return {
      items: items.map((i) => ({
        key: i.key,
        data: i.data ? Buffer.from(i.data) : Buffer.alloc(0),
        etag: i.etag ?? "",
        error: i.error ?? "",
        metadata: i.metadata ?? {},
      })),
    };
  }) as Unary<never, unknown>,
  SaveState: (async (ctx, r: Parameters<ServedMethods["SaveState"]>[0]["request"]) => {
    await stateSave(ctx, { store: r.storeName, items: r.states.map(item) });
    return {};
  }) as Unary<never, unknown>,
  QueryStateAlpha1: (async (
    ctx,
    r: Parameters<ServedMethods["QueryStateAlpha1"]>[0]["request"],
  ) => {
    let query: unknown;
    try {
      query = JSON.parse(r.query);
    } catch (error) {
      throw apiError("MALFORMED_REQUEST", {
        detail: `failed parsing the query: ${(error as Error).message}`,
      });
    }
    const result = await stateQuery(ctx, { store: r.storeName, query, metadata: meta(r.metadata) });
    return {
      results: result.results.map((i) => ({
        key: i.key,
        data: Buffer.from(i.data),
        etag: i.etag ?? "",
        error: i.error ?? "",
      })),
      token: result.token ?? "",
      metadata: result.metadata ?? {},
    };
  }) as Unary<never, unknown>,
  DeleteState: (async (ctx, r: Parameters<ServedMethods["DeleteState"]>[0]["request"]) => {
    await stateDelete(ctx, {
      store: r.storeName,
      key: r.key,
      etag: r.etag ?? undefined,
      metadata: meta(r.metadata),
      options: options(r.options),
    });
    return {};
  }) as Unary<never, unknown>,
  DeleteBulkState: (async (ctx, r: Parameters<ServedMethods["DeleteBulkState"]>[0]["request"]) => {
    await stateBulkDelete(ctx, { store: r.storeName, items: r.states.map(item) });
    return {};
  }) as Unary<never, unknown>,
  ExecuteStateTransaction: (async (
    ctx,
    r: Parameters<ServedMethods["ExecuteStateTransaction"]>[0]["request"],
  ) => {
    await stateTransaction(ctx, {
      store: r.storeName,
      operations: r.operations.map((op) => ({
        operation: op.operationType,
        request: item(op.request),
      })),
      metadata: meta(r.metadata),
    });
    return {};
  }) as Unary<never, unknown>,
  PublishEvent: (async (ctx, r: Parameters<ServedMethods["PublishEvent"]>[0]["request"], call) => {
    await publish(ctx, {
      pubsub: r.pubsubName,
      topic: r.topic,
      data: r.data,
      contentType: r.dataContentType,
      metadata: meta(r.metadata),
      trace: traceOf(call),
    });
    return {};
  }) as Unary<never, unknown>,
  BulkPublishEvent: bulkPublishMethod(),
  BulkPublishEventAlpha1: bulkPublishMethod(),
  InvokeBinding: (async (
    ctx,
    r: Parameters<ServedMethods["InvokeBinding"]>[0]["request"],
    call,
  ) => {
    const result = await invokeBinding(ctx, {
      name: r.name,
      operation: r.operation,
      ...(r.data.length > 0 ? { data: r.data } : {}),
      // As daprd: the binding gets the call's trace context among its metadata.
      metadata: { ...meta(r.metadata), ...traceOf(call) },
    });
    return {
      data: result.data ? Buffer.from(result.data) : Buffer.alloc(0),
      metadata: result.metadata ?? {},
    };
  }) as Unary<never, unknown>,
  InvokeService: invokeService as Unary<never, unknown>,
  GetSecret: (async (ctx, r: Parameters<ServedMethods["GetSecret"]>[0]["request"]) => {
    const data = await getSecret(ctx, {
      store: r.storeName,
      key: r.key,
      metadata: meta(r.metadata),
    });
    return { data: data ?? {} };
  }) as Unary<never, unknown>,
  GetBulkSecret: (async (ctx, r: Parameters<ServedMethods["GetBulkSecret"]>[0]["request"]) => {
    const all = await getBulkSecret(ctx, { store: r.storeName, metadata: meta(r.metadata) });
    return {
      data: Object.fromEntries(Object.entries(all).map(([k, secrets]) => [k, { secrets }])),
    };
  }) as Unary<never, unknown>,
  GetMetadata: (async (ctx) => metadataResponse(getMetadata(ctx))) as Unary<never, unknown>,
  SetMetadata: (async (ctx, r: Parameters<ServedMethods["SetMetadata"]>[0]["request"]) => {
    setMetadata(ctx, { key: r.key, value: r.value });
    return {};
  }) as Unary<never, unknown>,
  Shutdown: (async (ctx) => {
    shutdown(ctx);
    return {};
  }) as Unary<never, unknown>,
  ConverseAlpha1: converseAlpha1Method as Unary<never, unknown>,
  ConverseAlpha2: converseAlpha2Method as Unary<never, unknown>,
  GetConfiguration: getConfigurationMethod as Unary<never, unknown>,
  GetConfigurationAlpha1: getConfigurationMethod as Unary<never, unknown>,
  UnsubscribeConfiguration: unsubscribeConfigurationMethod as Unary<never, unknown>,
  UnsubscribeConfigurationAlpha1: unsubscribeConfigurationMethod as Unary<never, unknown>,
  TryLockAlpha1: (async (ctx, r: Parameters<ServedMethods["TryLockAlpha1"]>[0]["request"]) =>
    tryLock(ctx, {
      store: r.storeName,
      resourceId: r.resourceId,
      lockOwner: r.lockOwner,
      expiryInSeconds: r.expiryInSeconds,
    })) as Unary<never, unknown>,
  UnlockAlpha1: (async (ctx, r: Parameters<ServedMethods["UnlockAlpha1"]>[0]["request"]) =>
    unlock(ctx, {
      store: r.storeName,
      resourceId: r.resourceId,
      lockOwner: r.lockOwner,
    })) as Unary<never, unknown>,
};

/** The served server-streaming methods. */
export const DAPR_SERVER_STREAMS: { [K in keyof ServedStreams]: ServerStream } = {
  SubscribeConfiguration: subscribeConfigurationStream as ServerStream,
  SubscribeConfigurationAlpha1: subscribeConfigurationStream as ServerStream,
};

function bulkPublishMethod(): Unary<never, unknown> {
  return (async (ctx, r: Parameters<ServedMethods["BulkPublishEvent"]>[0]["request"], call) => {
    const result = await bulkPublish(ctx, {
      pubsub: r.pubsubName,
      topic: r.topic,
      entries: r.entries.map((e) => ({
        entryId: e.entryId,
        event: e.event,
        contentType: e.contentType,
        metadata: meta(e.metadata),
      })),
      metadata: meta(r.metadata),
      trace: traceOf(call),
    });
    return { failedEntries: result.failedEntries };
  }) as Unary<never, unknown>;
}

/** The building block an unserved method belongs to, for its UNIMPLEMENTED message. */
export function buildingBlockOf(method: string): string {
  return unimplementedApiOf(method) ?? "this";
}
