import type * as grpc from "@grpc/grpc-js";
import { apiError } from "../api/errors.ts";
import type { InstanceMeta, WorkflowEngine } from "../workflows/engine.ts";
import { millisOf, stringValue, TERMINAL, timestamp } from "../workflows/history.ts";
import { toServiceError } from "./errors.ts";
import type { ActivityResponse__Output } from "./generated/ActivityResponse.ts";
import type { CreateInstanceRequest__Output } from "./generated/CreateInstanceRequest.ts";
import type { GetInstanceHistoryRequest__Output } from "./generated/GetInstanceHistoryRequest.ts";
import type { GetInstanceHistoryResponse } from "./generated/GetInstanceHistoryResponse.ts";
import type { GetInstanceRequest__Output } from "./generated/GetInstanceRequest.ts";
import type { GetInstanceResponse } from "./generated/GetInstanceResponse.ts";
import type { ListInstanceIDsRequest__Output } from "./generated/ListInstanceIDsRequest.ts";
import type { ListInstanceIDsResponse } from "./generated/ListInstanceIDsResponse.ts";
import type { OrchestrationState } from "./generated/OrchestrationState.ts";
import type { OrchestratorResponse__Output } from "./generated/OrchestratorResponse.ts";
import type { PurgeInstancesRequest__Output } from "./generated/PurgeInstancesRequest.ts";
import type { RaiseEventRequest__Output } from "./generated/RaiseEventRequest.ts";
import type { ResumeRequest__Output } from "./generated/ResumeRequest.ts";
import type { SuspendRequest__Output } from "./generated/SuspendRequest.ts";
import type { TerminateRequest__Output } from "./generated/TerminateRequest.ts";
import type { WorkItem } from "./generated/WorkItem.ts";
import { taskHubProtos } from "./protos.ts";
import type { GrpcService } from "./server.ts";

// Decoding and encoding only: the workflow rules live in ../workflows/engine.ts.

type Unary = (
  engine: WorkflowEngine,
  request: never,
  call: grpc.ServerUnaryCall<never, unknown>,
) => Promise<unknown>;

/** The instance as the protocol's OrchestrationState (inputs and outputs only when asked). */
export function orchestrationState(
  instanceId: string,
  meta: InstanceMeta,
  withPayloads: boolean,
): OrchestrationState {
  return {
    instanceId,
    name: meta.name,
    orchestrationStatus: meta.status,
    createdTimestamp: timestamp(meta.createdAt),
    lastUpdatedTimestamp: timestamp(meta.updatedAt),
    ...(withPayloads ? { input: stringValue(meta.input), output: stringValue(meta.output) } : {}),
    customStatus: stringValue(meta.customStatus),
    failureDetails: meta.failure ?? null,
  };
}

function instanceAnswer(
  instanceId: string,
  meta: InstanceMeta | undefined,
  withPayloads: boolean,
): GetInstanceResponse {
  return meta
    ? { exists: true, orchestrationState: orchestrationState(instanceId, meta, withPayloads) }
    : { exists: false };
}

/** An AbortSignal that aborts when the caller goes away (a wait has no end of its own). */
function callSignal(call: grpc.ServerUnaryCall<never, unknown>): AbortSignal {
  const abort = new AbortController();
  call.once("cancelled", () => abort.abort());
  return abort.signal;
}

function waitHandler(until: (meta: InstanceMeta) => boolean): Unary {
  return async (engine, request: GetInstanceRequest__Output, call) => {
    const meta = await engine.waitFor(request.instanceId, until, callSignal(call));
    if (engine.closed)
      throw apiError("WORKFLOW_GET", { id: request.instanceId, error: "the sidecar is stopping" });
    return instanceAnswer(request.instanceId, meta, request.getInputsAndOutputs);
  };
}

async function completeTurn(
  engine: WorkflowEngine,
  request: OrchestratorResponse__Output,
): Promise<object> {
  await engine.completeOrchestration(request);
  return {};
}

const UNARY: Readonly<Record<string, Unary>> = {
  Hello: async () => ({}),
  StartInstance: async (engine, request: CreateInstanceRequest__Output) => {
    if (!request.name) throw apiError("WORKFLOW_NAME_MISSING");
    const startAt = millisOf(request.scheduledStartTimestamp);
    const instanceId = await engine.startInstance({
      name: request.name,
      instanceId: request.instanceId,
      input: request.input?.value,
      startAt: startAt > 0 ? startAt : undefined,
    });
    return { instanceId };
  },
  GetInstance: async (engine, request: GetInstanceRequest__Output) =>
    instanceAnswer(
      request.instanceId,
      await engine.getInstance(request.instanceId),
      request.getInputsAndOutputs,
    ),
  WaitForInstanceStart: waitHandler((meta) => meta.status !== "ORCHESTRATION_STATUS_PENDING"),
  WaitForInstanceCompletion: waitHandler((meta) => TERMINAL.has(meta.status)),
  RaiseEvent: async (engine, request: RaiseEventRequest__Output) => {
    if (!request.name) throw apiError("WORKFLOW_EVENT_NAME_MISSING");
    await engine.raiseEvent(request.instanceId, request.name, request.input?.value);
    return {};
  },
  TerminateInstance: async (engine, request: TerminateRequest__Output) => {
    await engine.terminate(request.instanceId, request.output?.value, request.recursive);
    return {};
  },
  SuspendInstance: async (engine, request: SuspendRequest__Output) => {
    await engine.suspend(request.instanceId, request.reason?.value);
    return {};
  },
  ResumeInstance: async (engine, request: ResumeRequest__Output) => {
    await engine.resume(request.instanceId, request.reason?.value);
    return {};
  },
  PurgeInstances: async (engine, request: PurgeInstancesRequest__Output) => {
    if (request.request !== "instanceId") {
      throw apiError("WORKFLOW_UNSUPPORTED", { what: "purging by filter (PurgeInstanceFilter)" });
    }
    const deletedInstanceCount = await engine
      .purge(request.instanceId ?? "")
      .catch((error: unknown) => {
        // The protocol answers a purge of nothing with a count of 0.
        if ((error as { kind?: string }).kind === "WORKFLOW_NOT_FOUND") return 0;
        throw error;
      });
    return { deletedInstanceCount };
  },
  CompleteOrchestratorTask: completeTurn,
  // The newer SDKs' name for CompleteOrchestratorTask, on the same message.
  CompleteWorkflowTask: completeTurn,
  CompleteActivityTask: async (engine, request: ActivityResponse__Output) => {
    await engine.completeActivity(request);
    return {};
  },
  ListInstanceIDs: async (engine, request: ListInstanceIDsRequest__Output) => {
    const page = await engine.listInstanceIds({
      // proto3 `optional`: unset fields are absent, 0 is "no limit" as for the state store.
      pageSize: request.pageSize || undefined,
      continuationToken: request.continuationToken || undefined,
    });
    const reply: ListInstanceIDsResponse = { instanceIds: page.ids };
    if (page.continuationToken) reply.continuationToken = page.continuationToken;
    return reply;
  },
  GetInstanceHistory: async (
    engine,
    request: GetInstanceHistoryRequest__Output,
  ): Promise<GetInstanceHistoryResponse> => {
    const events = await engine.getHistory(request.instanceId);
    if (!events) throw apiError("WORKFLOW_NOT_FOUND", { id: request.instanceId });
    return { events };
  },
};

/**
 * TaskHubSidecarService, the durabletask worker protocol the Dapr workflow SDKs speak, over the
 * workflow engine; `undefined` (no actor state store) answers every call naming what is missing.
 * Methods beyond the workflow ones (entities, task hubs, rewind, query) answer UNIMPLEMENTED.
 */
export function taskHubService(engine: WorkflowEngine | undefined): GrpcService {
  const definition = taskHubProtos().service;
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const unary = UNARY[name];
    if (name === "GetWorkItems") {
      implementation[name] = ((call: grpc.ServerWritableStream<never, WorkItem>) => {
        if (!engine) {
          call.emit("error", toServiceError(apiError("WORKFLOW_ENGINE_MISSING")));
          return;
        }
        const connection = engine.connect(
          (item) => call.write(item),
          () => call.end(),
        );
        const close = (): void => connection.close();
        call.once("cancelled", close);
        call.once("close", close);
        call.once("error", close);
      }) as grpc.UntypedHandleCall;
      continue;
    }
    implementation[name] = ((
      call: grpc.ServerUnaryCall<never, unknown>,
      answer: grpc.sendUnaryData<unknown>,
    ) => {
      if (!engine)
        return answer(toServiceError(apiError("WORKFLOW_ENGINE_MISSING")) as grpc.ServiceError);
      if (!unary || method.requestStream || method.responseStream) {
        return answer(
          toServiceError(
            apiError("WORKFLOW_UNSUPPORTED", { what: `TaskHubSidecarService/${name}` }),
          ) as grpc.ServiceError,
        );
      }
      unary(engine, call.request, call).then(
        (reply) => answer(null, reply),
        (error: unknown) => answer(toServiceError(error) as grpc.ServiceError),
      );
    }) as grpc.UntypedHandleCall;
  }
  return { definition, implementation };
}
