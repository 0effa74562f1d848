// Methods of the durabletask worker protocol that newer Dapr SDKs call and the
// orchestrator_service.proto in @dapr/durabletask-js 1.0.0 predates. `generate:grpc` splices them
// into its local copy of that file (the service keeps no package prefix), with the names and
// field numbers of the published durabletask protocol (Dapr's durabletask-protobuf):
// CompleteWorkflowTask is CompleteOrchestratorTask's newer name, on the same message;
// ListInstanceIDs and GetInstanceHistory back the dapr CLI's `workflow list` and `history`.

/** Lines added inside `service TaskHubSidecarService { … }`, keyed by method name. */
export const ADDED_RPCS: Readonly<Record<string, string>> = {
  CompleteWorkflowTask:
    "rpc CompleteWorkflowTask(OrchestratorResponse) returns (CompleteTaskResponse);",
  ListInstanceIDs: "rpc ListInstanceIDs(ListInstanceIDsRequest) returns (ListInstanceIDsResponse);",
  GetInstanceHistory:
    "rpc GetInstanceHistory(GetInstanceHistoryRequest) returns (GetInstanceHistoryResponse);",
};

/** Messages appended to the file, keyed by message name. */
export const ADDED_MESSAGES: Readonly<Record<string, string>> = {
  ListInstanceIDsRequest: `message ListInstanceIDsRequest {
    // Where the page starts: the continuationToken of the page before; the first page without it.
    optional string continuationToken = 1;
    // The most ids on this page; without it, all of them.
    optional uint32 pageSize = 2;
}`,
  ListInstanceIDsResponse: `message ListInstanceIDsResponse {
    repeated string instanceIds = 1;
    // Set when there are more pages.
    optional string continuationToken = 2;
}`,
  GetInstanceHistoryRequest: `message GetInstanceHistoryRequest {
    string instanceId = 1;
}`,
  GetInstanceHistoryResponse: `message GetInstanceHistoryResponse {
    repeated HistoryEvent events = 1;
}`,
};

/**
 * `proto` (the file as the package ships it) with the additions. Fails when the file already
 * declares one of them: a newer package brings its own, and this addition should then go.
 */
export function withAdditions(proto: string): string {
  const service = /service TaskHubSidecarService \{[\s\S]*?\n\}/.exec(proto);
  if (!service) throw new Error("orchestrator_service.proto: no service TaskHubSidecarService");
  for (const name of Object.keys(ADDED_RPCS)) {
    if (new RegExp(`\\brpc\\s+${name}\\s*\\(`).test(service[0]))
      throw new Error(
        `orchestrator_service.proto now declares rpc ${name}: drop it from scripts/durabletask-additions.ts`,
      );
  }
  for (const name of Object.keys(ADDED_MESSAGES)) {
    if (new RegExp(`\\bmessage\\s+${name}\\s*\\{`).test(proto))
      throw new Error(
        `orchestrator_service.proto now declares message ${name}: drop it from scripts/durabletask-additions.ts`,
      );
  }
  const rpcs = Object.values(ADDED_RPCS)
    .map((line) => `    ${line}\n`)
    .join("");
  const end = service.index + service[0].length - 1;
  const spliced = `${proto.slice(0, end)}\n    // Added by outrig's generate:grpc (scripts/durabletask-additions.ts).\n${rpcs}${proto.slice(end)}`;
  return `${spliced.trimEnd()}\n\n// Added by outrig's generate:grpc (scripts/durabletask-additions.ts).\n${Object.values(ADDED_MESSAGES).join("\n\n")}\n`;
}
