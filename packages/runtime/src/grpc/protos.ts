import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import type { ProtoGrpcType as AppCallbackProto } from "./generated/appcallback.ts";
import type { ProtoGrpcType as DaprProto } from "./generated/dapr.ts";
import type { ProtoGrpcType as TaskHubProto } from "./generated/orchestrator_service.ts";

/**
 * The .proto files of Dapr's API (copied from the pinned @dapr/dapr by `generate:grpc`, shipped
 * in the package's `proto/`), loaded once at run time; the generated TypeScript is types only.
 */
const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "proto");

/** Field and value mapping shared by every loaded message (matches `generate:grpc`'s flags). */
const LOAD_OPTIONS: loader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export interface DaprProtos {
  dapr: DaprProto;
  appCallback: AppCallbackProto;
  /** google.rpc.Status and ErrorInfo, for rich error details. */
  status: protobuf.Type;
  errorInfo: protobuf.Type;
}

let loaded: DaprProtos | undefined;

export function daprProtos(): DaprProtos {
  if (loaded) return loaded;
  if (!existsSync(join(PROTO_ROOT, "dapr/proto/runtime/v1/dapr.proto"))) {
    throw new Error(
      `Dapr's .proto files are missing in ${PROTO_ROOT}: run pnpm --filter @outrig/runtime generate:grpc`,
    );
  }
  const definition = loader.loadSync(
    ["dapr/proto/runtime/v1/dapr.proto", "dapr/proto/runtime/v1/appcallback.proto"],
    LOAD_OPTIONS,
  );
  const pkg = grpc.loadPackageDefinition(definition);
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  root.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"]);
  loaded = {
    dapr: pkg as unknown as DaprProto,
    appCallback: pkg as unknown as AppCallbackProto,
    status: root.lookupType("google.rpc.Status"),
    errorInfo: root.lookupType("google.rpc.ErrorInfo"),
  };
  return loaded;
}

export interface TaskHubProtos {
  /** The durabletask worker protocol (no package prefix, as the SDKs call it). */
  service: TaskHubProto["TaskHubSidecarService"]["service"];
  /** For storing history as Dapr does: one protobuf-encoded HistoryEvent per key. */
  historyEvent: protobuf.Type;
}

let taskHub: TaskHubProtos | undefined;

export function taskHubProtos(): TaskHubProtos {
  if (taskHub) return taskHub;
  const file = "durabletask/orchestrator_service.proto";
  if (!existsSync(join(PROTO_ROOT, file))) {
    throw new Error(
      `the durabletask .proto is missing in ${PROTO_ROOT}: run pnpm --filter @outrig/runtime generate:grpc`,
    );
  }
  const pkg = grpc.loadPackageDefinition(
    loader.loadSync(file, LOAD_OPTIONS),
  ) as unknown as TaskHubProto;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith("google/protobuf/") ? target : join(PROTO_ROOT, target);
  root.loadSync(file);
  taskHub = {
    service: pkg.TaskHubSidecarService.service,
    historyEvent: root.lookupType("HistoryEvent"),
  };
  return taskHub;
}

/** How grpc-js hands messages to the server: the object form stored history is read back in. */
export const MESSAGE_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
