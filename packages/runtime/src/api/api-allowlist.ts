import type { ConfigurationResource } from "../resources/model.ts";
import { type ApiError, apiError } from "./errors.ts";

/**
 * The Configuration's `spec.api.allowed` / `spec.api.denied`, as daprd applies them, for both
 * transports. The two differ in daprd and are kept apart here on purpose:
 *
 * - HTTP (pkg/api/http/endpoints): a rule `<version>/<name>` matches a route whose group is
 *   `v1/state` (group versions v1, v1alpha1, v1beta1, ...), or whose path starts with it
 *   (`v1.0/state` matches `/v1.0/state/:store`, `v1.0-alpha1/state` the query route). A refused
 *   route is not registered at all. Any HTTP rule makes its list active, even one that matches
 *   nothing. The health checks are always served.
 * - gRPC (pkg/api/grpc/endpoints.go): a rule names a group `<name>.<version>` of the table below
 *   (`state` + `v1`, never `v1.0`); only methods of `dapr.proto.runtime.*` are checked, and a list
 *   whose rules name no known group is no list at all.
 *
 * Rules of other protocols are ignored by each side (HTTP compares the protocol case-insensitively,
 * gRPC exactly, as daprd does).
 */

const DAPR = "/dapr.proto.runtime.v1.Dapr/";

/** daprd's gRPC API groups: `<name>.<version>` → methods of `dapr.proto.runtime.v1.Dapr`. */
const GRPC_GROUPS: Readonly<Record<string, readonly string[]>> = {
  "invoke.v1": ["InvokeService"],
  "state.v1": [
    "GetState",
    "GetBulkState",
    "SaveState",
    "DeleteState",
    "DeleteBulkState",
    "ExecuteStateTransaction",
  ],
  "state.v1alpha1": ["QueryStateAlpha1"],
  "publish.v1": ["PublishEvent", "BulkPublishEvent"],
  "publish.v1alpha1": ["BulkPublishEventAlpha1"],
  "bindings.v1": ["InvokeBinding"],
  "secrets.v1": ["GetSecret", "GetBulkSecret"],
  "actors.v1": [
    "RegisterActorTimer",
    "UnregisterActorTimer",
    "RegisterActorReminder",
    "GetActorReminder",
    "UnregisterActorReminder",
    "UnregisterActorRemindersByType",
    "ListActorReminders",
    "GetActorState",
    "ExecuteActorStateTransaction",
    "InvokeActor",
  ],
  "actors.v1alpha1": ["SubscribeActorEventsAlpha1"],
  "metadata.v1": ["GetMetadata", "SetMetadata"],
  "configuration.v1alpha1": [
    "GetConfigurationAlpha1",
    "SubscribeConfigurationAlpha1",
    "UnsubscribeConfigurationAlpha1",
  ],
  "configuration.v1": ["GetConfiguration", "SubscribeConfiguration", "UnsubscribeConfiguration"],
  "lock.v1alpha1": ["TryLockAlpha1"],
  "unlock.v1alpha1": ["UnlockAlpha1"],
  "subtlecrypto.v1alpha1": [
    "SubtleGetKeyAlpha1",
    "SubtleEncryptAlpha1",
    "SubtleDecryptAlpha1",
    "SubtleSignAlpha1",
    "SubtleVerifyAlpha1",
    "SubtleWrapKeyAlpha1",
    "SubtleUnwrapKeyAlpha1",
  ],
  "crypto.v1alpha1": ["EncryptAlpha1", "DecryptAlpha1"],
  "workflows.v1alpha1": [
    "StartWorkflowAlpha1",
    "GetWorkflowAlpha1",
    "TerminateWorkflowAlpha1",
    "RaiseEventWorkflowAlpha1",
    "PurgeWorkflowAlpha1",
    "PauseWorkflowAlpha1",
    "ResumeWorkflowAlpha1",
  ],
  "workflows.v1beta1": [
    "StartWorkflowBeta1",
    "GetWorkflowBeta1",
    "TerminateWorkflowBeta1",
    "RaiseEventWorkflowBeta1",
    "PurgeWorkflowBeta1",
    "PauseWorkflowBeta1",
    "ResumeWorkflowBeta1",
  ],
  "jobs.v1alpha1": [
    "ScheduleJobAlpha1",
    "DeleteJobAlpha1",
    "GetJobAlpha1",
    "DeleteJobsByPrefixAlpha1",
    "ListJobsAlpha1",
  ],
  "jobs.v1": ["ScheduleJob", "DeleteJob", "GetJob", "DeleteJobsByPrefix", "ListJobs"],
  "shutdown.v1": ["Shutdown"],
  "subscribe.v1alpha1": ["SubscribeTopicEventsAlpha1"],
  "conversation.v1alpha1": ["ConverseAlpha1"],
  "conversation.v1alpha2": ["ConverseAlpha2"],
};

/** HTTP routes served whatever the lists say: daprd's health checks, and outrig's own. */
const ALWAYS_HTTP = /^\/(?:v1\.0\/healthz(?:\/|$)|outrig\/)/;

export interface ApiAccess {
  /** Whether an HTTP route template (`/v1.0/state/:store`) is served. */
  httpServes(route: string): boolean;
  /** Whether a gRPC method (`/dapr.proto.runtime.v1.Dapr/GetState`) is served. */
  grpcServes(fullMethod: string): boolean;
  /** Whether any gRPC list is active (else every gRPC call passes without a lookup). */
  readonly grpcRestricted: boolean;
  /** Whether the dapr-app-id fallback (part of the invoke API) is served over HTTP. */
  readonly httpFallback: boolean;
}

interface Rule {
  name: string;
  version: string;
  protocol: string;
}

/** An HTTP route's group, as daprd names it: `/v1.0-alpha1/lock/:store` → `v1alpha1/lock`. */
function httpGroupOf(route: string): string {
  const m = /^\/v(\d+)\.0(?:-([a-z]+\d+))?\/([^/]+)/.exec(route);
  return m ? `v${m[1]}${m[2] ?? ""}/${m[3]}` : "";
}

/** The lists of every Configuration, compiled once at start-up. */
export function apiAccess(configurations: readonly ConfigurationResource[]): ApiAccess {
  const rules = (list: "allowed" | "denied"): Rule[] =>
    configurations.flatMap((c) =>
      (c.spec.api?.[list] ?? []).map((r) => ({
        name: r.name,
        version: r.version ?? "",
        protocol: r.protocol ?? "",
      })),
    );
  const allowed = rules("allowed");
  const denied = rules("denied");

  const httpKeys = (list: Rule[]) =>
    list.filter((r) => r.protocol.toLowerCase() === "http").map((r) => `${r.version}/${r.name}`);
  const httpAllowed = httpKeys(allowed);
  const httpDenied = httpKeys(denied);
  const matches = (route: string, keys: string[]): boolean => {
    const group = httpGroupOf(route);
    const path = route.slice(1);
    return keys.some((k) => k === group || path.startsWith(k));
  };
  const httpServes = (route: string): boolean => {
    if (ALWAYS_HTTP.test(route)) return true;
    if (httpDenied.length > 0 && matches(route, httpDenied)) return false;
    return httpAllowed.length === 0 || matches(route, httpAllowed);
  };

  const grpcMethods = (list: Rule[]): Set<string> =>
    new Set(
      list
        .filter((r) => r.protocol === "grpc")
        .flatMap((r) => (GRPC_GROUPS[`${r.name}.${r.version}`] ?? []).map((m) => DAPR + m)),
    );
  const grpcAllowed = grpcMethods(allowed);
  const grpcDenied = grpcMethods(denied);
  const grpcServes = (fullMethod: string): boolean => {
    if (!fullMethod.startsWith("/dapr.proto.runtime.")) return true;
    if (grpcDenied.has(fullMethod)) return false;
    return grpcAllowed.size === 0 || grpcAllowed.has(fullMethod);
  };

  return {
    httpServes,
    grpcServes,
    grpcRestricted: grpcAllowed.size > 0 || grpcDenied.size > 0,
    httpFallback: httpServes("/v1.0/invoke/*"),
  };
}

/** daprd's answer to a refused gRPC method, with the ErrorInfo metadata of an HTTP 501. */
export function refusedGrpcError(): ApiError {
  return apiError(
    "API_REFUSED",
    {},
    {
      metadata: { "http.code": "501", "http.error_message": "requested endpoint is not available" },
    },
  );
}
