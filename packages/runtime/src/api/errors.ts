import { BulkError, ComponentError, type ErrorCode } from "@outrig/core";

/** gRPC status codes (google.rpc.Code), numeric as on the wire. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/**
 * The HTTP status of a gRPC status, as daprd answers an HTTP caller for a gRPC app
 * (`invokev1.HTTPStatusFromCode`): CANCELLED is 408, FAILED_PRECONDITION 400 (not 412), and
 * anything unlisted 500.
 */
const HTTP_OF_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.OK]: 200,
  [GrpcStatus.CANCELLED]: 408,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 500,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

export function httpStatusOfGrpc(code: number): number {
  return HTTP_OF_GRPC[code] ?? 500;
}

/**
 * The gRPC status of an HTTP app's answer, as daprd's InvokeService returns it to a gRPC caller
 * (`invokev1.CodeFromHTTPStatus`): 400 is INTERNAL and 500 UNKNOWN (sic), another 2xx OK,
 * anything unlisted UNKNOWN.
 */
const GRPC_OF_HTTP: Readonly<Record<number, GrpcStatusCode>> = {
  200: GrpcStatus.OK,
  408: GrpcStatus.CANCELLED,
  500: GrpcStatus.UNKNOWN,
  400: GrpcStatus.INTERNAL,
  504: GrpcStatus.DEADLINE_EXCEEDED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.ALREADY_EXISTS,
  403: GrpcStatus.PERMISSION_DENIED,
  401: GrpcStatus.UNAUTHENTICATED,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  501: GrpcStatus.UNIMPLEMENTED,
  503: GrpcStatus.UNAVAILABLE,
};

export function grpcStatusOfHttp(status: number): GrpcStatusCode {
  if (GRPC_OF_HTTP[status] !== undefined) return GRPC_OF_HTTP[status];
  return status >= 200 && status < 300 ? GrpcStatus.OK : GrpcStatus.UNKNOWN;
}

/** The `google.rpc.ErrorInfo` domain Dapr puts on its rich errors. */
export const ERROR_INFO_DOMAIN = "dapr.io";

export interface ApiErrorEntry {
  /** Dapr's `errorCode` (the HTTP body's field; also the gRPC message's subject). */
  readonly errorCode: string;
  /** HTTP status. */
  readonly http: number;
  /** gRPC status code. */
  readonly grpc: GrpcStatusCode;
  /** `google.rpc.ErrorInfo.reason` where Dapr sends one; absent where Dapr sends a plain status. */
  readonly reason?: string;
  /** Message with `{name}` placeholders, filled by {@link apiError}. */
  readonly message: string;
}

const S = GrpcStatus;

/**
 * Every error the API answers, in one place: Dapr's errorCode, the HTTP status, the gRPC status,
 * the ErrorInfo reason and the message. Facts from Dapr's error-code reference and its runtime
 * (`pkg/messages/errorcodes`, `pkg/api/errors`); where Dapr's HTTP status differs from its docs the
 * runtime's is used. Transports read status and body from here and never pick their own.
 */
export const API_ERRORS = {
  // Common
  MALFORMED_REQUEST: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "{detail}",
  },
  MALFORMED_BODY: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "failed deserializing HTTP body: {detail}",
  },
  INTERNAL: { errorCode: "ERR_INTERNAL", http: 500, grpc: S.INTERNAL, message: "{detail}" },
  API_UNIMPLEMENTED: {
    errorCode: "ERR_API_UNIMPLEMENTED",
    http: 501,
    grpc: S.UNIMPLEMENTED,
    message: "the {api} API is not implemented by outrig",
  },
  // A method the Configuration's `api` lists refuse: daprd's allowlist interceptor answers
  // ErrorFromHTTPResponseCode(501, "requested endpoint is not available"). HTTP never sends it: a
  // refused route is unregistered there (see http/server.ts).
  API_REFUSED: {
    errorCode: "ERR_API_REFUSED",
    http: 501,
    grpc: S.UNIMPLEMENTED,
    reason: "Not Implemented",
    message: "Not Implemented",
  },
  METHOD_NOT_ALLOWED: {
    errorCode: "ERR_METHOD_NOT_ALLOWED",
    http: 405,
    grpc: S.UNIMPLEMENTED,
    message: "method {method} is not allowed on {path}; allowed: {allowed}",
  },
  BODY_TOO_LARGE: {
    errorCode: "ERR_BODY_TOO_LARGE",
    http: 413,
    grpc: S.RESOURCE_EXHAUSTED,
    message: "{detail}",
  },
  REQUEST_TIMEOUT: {
    errorCode: "ERR_REQUEST_TIMEOUT",
    http: 408,
    grpc: S.DEADLINE_EXCEEDED,
    message: "the request was not complete within {ms}ms",
  },
  INVALID_API_TOKEN: {
    errorCode: "ERR_API_TOKEN_INVALID",
    http: 401,
    grpc: S.UNAUTHENTICATED,
    message: "invalid api token",
  },

  // Health
  HEALTH_NOT_READY: {
    errorCode: "ERR_HEALTH_NOT_READY",
    http: 500,
    grpc: S.UNAVAILABLE,
    message: "dapr is not ready",
  },
  HEALTH_APPID_NOT_MATCH: {
    errorCode: "ERR_HEALTH_APPID_NOT_MATCH",
    http: 500,
    grpc: S.INVALID_ARGUMENT,
    message: "dapr app-id does not match",
  },
  OUTBOUND_HEALTH_NOT_READY: {
    errorCode: "ERR_OUTBOUND_HEALTH_NOT_READY",
    http: 500,
    grpc: S.UNAVAILABLE,
    message: "dapr outbound is not ready",
  },

  // State
  STATE_STORE_NOT_CONFIGURED: {
    errorCode: "ERR_STATE_STORE_NOT_CONFIGURED",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    reason: "DAPR_STATE_NOT_CONFIGURED",
    message: "state store is not configured",
  },
  STATE_STORE_NOT_FOUND: {
    errorCode: "ERR_STATE_STORE_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_STATE_NOT_FOUND",
    message: "state store {store} is not found",
  },
  STATE_ILLEGAL_KEY: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_STATE_ILLEGAL_KEY",
    message: "{detail}",
  },
  STATE_GET: {
    errorCode: "ERR_STATE_GET",
    http: 500,
    grpc: S.INTERNAL,
    message: "fail to get {key} from state store {store}: {error}",
  },
  STATE_BULK_GET: {
    errorCode: "ERR_STATE_BULK_GET",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed getting state in bulk from state store {store}: {error}",
  },
  STATE_SAVE: {
    errorCode: "ERR_STATE_SAVE",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed saving state in state store {store}: {error}",
  },
  STATE_SAVE_ETAG_MISMATCH: {
    errorCode: "ERR_STATE_SAVE",
    http: 409,
    grpc: S.ABORTED,
    message: "failed saving state in state store {store}: {error}",
  },
  STATE_SAVE_ETAG_INVALID: {
    errorCode: "ERR_STATE_SAVE",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "failed saving state in state store {store}: {error}",
  },
  STATE_DELETE: {
    errorCode: "ERR_STATE_DELETE",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed deleting state with key {key}: {error}",
  },
  STATE_DELETE_ETAG_MISMATCH: {
    errorCode: "ERR_STATE_DELETE",
    http: 409,
    grpc: S.ABORTED,
    message: "failed deleting state with key {key}: {error}",
  },
  STATE_DELETE_ETAG_INVALID: {
    errorCode: "ERR_STATE_DELETE",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "failed deleting state with key {key}: {error}",
  },
  STATE_TRANSACTION: {
    errorCode: "ERR_STATE_TRANSACTION",
    http: 500,
    grpc: S.INTERNAL,
    message: "error while executing state transaction: {error}",
  },
  STATE_TRANSACTIONS_NOT_SUPPORTED: {
    errorCode: "ERR_STATE_STORE_NOT_SUPPORTED",
    http: 500,
    grpc: S.UNIMPLEMENTED,
    reason: "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED",
    message: "state store {store} doesn't support transactions",
  },
  STATE_NOT_SUPPORTED_OPERATION: {
    errorCode: "ERR_NOT_SUPPORTED_STATE_OPERATION",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "operation type {operation} not supported",
  },
  STATE_OUTBOX_PROJECTION: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message:
      "outbox projection for key {key} has no upsert of that key in the transaction; the transaction is not applied",
  },
  STATE_TOO_MANY_TRANSACTIONS: {
    errorCode: "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_STATE_TOO_MANY_TRANSACTIONS",
    message: "the transaction contains {count} operations, {limit}",
  },
  STATE_QUERY_NOT_SUPPORTED: {
    errorCode: "ERR_STATE_STORE_NOT_SUPPORTED",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_STATE_QUERYING_NOT_SUPPORTED",
    message: "state store {store} doesn't support query",
  },
  STATE_QUERY: {
    errorCode: "ERR_STATE_QUERY",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_STATE_QUERY_FAILED",
    message: "failed query in state store {store}: {error}",
  },
  STATE_QUERY_INVALID: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "failed query in state store {store}: {error}",
  },

  // Pub/sub
  PUBSUB_NOT_CONFIGURED: {
    errorCode: "ERR_PUBSUB_NOT_CONFIGURED",
    http: 400,
    grpc: S.FAILED_PRECONDITION,
    reason: "DAPR_PUBSUB_NOT_CONFIGURED",
    message: "no pubsub is configured",
  },
  PUBSUB_EMPTY: {
    errorCode: "ERR_PUBSUB_EMPTY",
    http: 404,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_NAME_EMPTY",
    message: "pubsub name is empty",
  },
  PUBSUB_NOT_FOUND: {
    errorCode: "ERR_PUBSUB_NOT_FOUND",
    http: 404,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_NOT_FOUND",
    message: "pubsub {pubsub} is not found",
  },
  PUBSUB_TOPIC_EMPTY: {
    errorCode: "ERR_TOPIC_NAME_EMPTY",
    http: 404,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_TOPIC_NAME_EMPTY",
    message: "topic is empty in pubsub {pubsub}",
  },
  PUBSUB_REQUEST_METADATA: {
    errorCode: "ERR_PUBSUB_REQUEST_METADATA",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_METADATA_DESERIALIZATION",
    message: "{detail}",
  },
  PUBSUB_CLOUD_EVENTS_SER: {
    errorCode: "ERR_PUBSUB_CLOUD_EVENTS_SER",
    http: 500,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_CLOUD_EVENT_CREATION",
    message: "cannot create cloudevent: {error}",
  },
  PUBSUB_PUBLISH_MESSAGE: {
    errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_PUBSUB_PUBLISH_MESSAGE",
    message: "error when publish to topic {topic} in pubsub {pubsub}: {error}",
  },
  PUBSUB_EVENTS_SER: {
    errorCode: "ERR_PUBSUB_EVENTS_SER",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_UNMARSHAL_EVENTS",
    message: "{detail}",
  },
  PUBSUB_UNMARSHAL_EVENTS: {
    errorCode: "ERR_PUBSUB_EVENTS_SER",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_PUBSUB_UNMARSHAL_EVENTS",
    message: "error when unmarshaling the request for topic {topic}: {detail}",
  },
  // Streaming subscriptions (gRPC only: daprd answers these with its plain messages, no errorCode)
  STREAM_INITIAL_REQUIRED: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "initial request is required",
  },
  STREAM_PUBSUB_REQUIRED: {
    errorCode: "ERR_PUBSUB_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "pubsubName name is required",
  },
  STREAM_TOPIC_REQUIRED: {
    errorCode: "ERR_TOPIC_NAME_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "topic is required",
  },
  STREAM_DUPLICATE_INITIAL: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "duplicate initial request received",
  },
  STREAM_ALREADY_SUBSCRIBED: {
    errorCode: "ERR_PUBSUB_STREAM_EXISTS",
    http: 409,
    grpc: S.ALREADY_EXISTS,
    message: 'already subscribed to pubsub "{pubsub}" topic "{topic}"',
  },
  STREAM_MALFORMED_ACK: {
    errorCode: "ERR_MALFORMED_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "event_processed needs the id of a message sent on this stream: {detail}",
  },

  // Bindings
  BINDING_INVOKE_OUTPUT: {
    errorCode: "ERR_INVOKE_OUTPUT_BINDING",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_BINDING_INVOKE_OUTPUT_BINDING",
    message: "error invoking output binding {name}: {error}",
  },

  // Secrets (Dapr puts the errorCode itself in ErrorInfo.reason here)
  SECRET_STORES_NOT_CONFIGURED: {
    errorCode: "ERR_SECRET_STORES_NOT_CONFIGURED",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    reason: "ERR_SECRET_STORES_NOT_CONFIGURED",
    message: "secret store is not configured",
  },
  SECRET_STORE_NOT_FOUND: {
    errorCode: "ERR_SECRET_STORE_NOT_FOUND",
    http: 401,
    grpc: S.INVALID_ARGUMENT,
    reason: "ERR_SECRET_STORE_NOT_FOUND",
    message: "failed finding secret store with key {store}",
  },
  SECRET_PERMISSION_DENIED: {
    errorCode: "ERR_PERMISSION_DENIED",
    http: 403,
    grpc: S.PERMISSION_DENIED,
    reason: "ERR_PERMISSION_DENIED",
    message: "access denied by policy to get {key} from {store}",
  },
  SECRET_GET: {
    errorCode: "ERR_SECRET_GET",
    http: 500,
    grpc: S.INTERNAL,
    reason: "ERR_SECRET_GET",
    message: "failed getting secret with key {key} from secret store {store}: {error}",
  },
  SECRET_BULK_GET: {
    errorCode: "ERR_SECRET_GET",
    http: 500,
    grpc: S.INTERNAL,
    reason: "ERR_SECRET_GET",
    message: "failed getting secrets from secret store {store}: {error}",
  },

  // Cryptography (Dapr sends these without ErrorInfo)
  BAD_REQUEST: {
    errorCode: "ERR_BAD_REQUEST",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "invalid request: {detail}",
  },
  CRYPTO_PROVIDERS_NOT_CONFIGURED: {
    errorCode: "ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED",
    http: 500,
    grpc: S.INTERNAL,
    message: "crypto providers not configured",
  },
  CRYPTO_PROVIDER_NOT_FOUND: {
    errorCode: "ERR_CRYPTO_PROVIDER_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "crypto provider {name} not found",
  },
  CRYPTO_KEY: {
    errorCode: "ERR_CRYPTO_KEY",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to retrieve key {key}: {error}",
  },
  CRYPTO: {
    errorCode: "ERR_CRYPTO",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to perform operation: {error}",
  },

  // Configuration (Dapr's pkg/messages: statuses and messages of daprd's configuration API)
  CONFIGURATION_STORE_NOT_CONFIGURED: {
    errorCode: "ERR_CONFIGURATION_STORE_NOT_CONFIGURED",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    message: "configuration stores not configured",
  },
  CONFIGURATION_STORE_NOT_FOUND: {
    errorCode: "ERR_CONFIGURATION_STORE_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "configuration store {store} not found",
  },
  CONFIGURATION_GET: {
    errorCode: "ERR_CONFIGURATION_GET",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to get {keys} from Configuration store {store}: {error}",
  },
  CONFIGURATION_SUBSCRIBE: {
    errorCode: "ERR_CONFIGURATION_SUBSCRIBE",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to subscribe {keys} from Configuration store {store}: {error}",
  },
  CONFIGURATION_UNSUBSCRIBE: {
    errorCode: "ERR_CONFIGURATION_UNSUBSCRIBE",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to unsubscribe to configuration request {id}: {error}",
  },

  // Distributed lock (Dapr's standardized lock errors, pkg/api/errors/lock.go; reasons DAPR_LOCK_*)
  LOCK_STORE_NOT_CONFIGURED: {
    errorCode: "ERR_LOCK_STORE_NOT_CONFIGURED",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    reason: "DAPR_LOCK_NOT_CONFIGURED",
    message: "lock store {store} is not configured",
  },
  LOCK_STORE_NOT_FOUND: {
    errorCode: "ERR_LOCK_STORE_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_LOCK_NOT_FOUND",
    message: "lock store {store} is not found",
  },
  LOCK_RESOURCE_ID_EMPTY: {
    errorCode: "ERR_RESOURCE_ID_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_LOCK_RESOURCE_ID_EMPTY",
    message: "ResourceId is empty in lock store {store}",
  },
  LOCK_OWNER_EMPTY: {
    errorCode: "ERR_LOCK_OWNER_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_LOCK_LOCK_OWNER_EMPTY",
    message: "LockOwner is empty in lock store {store}",
  },
  LOCK_EXPIRY_NOT_POSITIVE: {
    errorCode: "ERR_EXPIRY_NOT_POSITIVE",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_LOCK_NEGATIVE_EXPIRY",
    message: "ExpiryInSeconds is not positive in lock store {store}",
  },
  TRY_LOCK: {
    errorCode: "ERR_TRY_LOCK",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_LOCK_TRY_LOCK",
    message: "failed to try acquiring lock: {error}",
  },
  UNLOCK: {
    errorCode: "ERR_UNLOCK",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_LOCK_UNLOCK",
    message: "failed to release lock: {error}",
  },

  // Jobs (Dapr's errorcodes.Scheduler*: the ErrorInfo reason is also the errorCode)
  JOB_EMPTY: {
    errorCode: "DAPR_SCHEDULER_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_SCHEDULER_EMPTY",
    message: "Job is empty",
  },
  JOB_NAME_EMPTY: {
    errorCode: "DAPR_SCHEDULER_JOB_NAME_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_SCHEDULER_JOB_NAME_EMPTY",
    message: "{detail}",
  },
  JOB_NAME_IN_BODY: {
    errorCode: "DAPR_SCHEDULER_JOB_NAME",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_SCHEDULER_JOB_NAME",
    message: "Set the job name in the url only",
  },
  JOB_SCHEDULE_EMPTY: {
    errorCode: "DAPR_SCHEDULER_SCHEDULE_EMPTY",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_SCHEDULER_SCHEDULE_EMPTY",
    message: "Schedule is empty: a job needs a schedule or a dueTime",
  },
  JOB_SCHEDULE_INVALID: {
    errorCode: "DAPR_SCHEDULER_SCHEDULE_JOB",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    reason: "DAPR_SCHEDULER_SCHEDULE_JOB",
    message: "failed to schedule job due to: {error}",
  },
  JOB_EXISTS: {
    errorCode: "DAPR_SCHEDULER_SCHEDULE_JOB",
    http: 409,
    grpc: S.ALREADY_EXISTS,
    reason: "DAPR_SCHEDULER_SCHEDULE_JOB",
    message:
      "failed to schedule job due to: job {name} already exists (set overwrite to replace it)",
  },
  JOB_SCHEDULE: {
    errorCode: "DAPR_SCHEDULER_SCHEDULE_JOB",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_SCHEDULER_SCHEDULE_JOB",
    message: "failed to schedule job due to: {error}",
  },
  JOB_NOT_FOUND: {
    errorCode: "DAPR_SCHEDULER_GET_JOB",
    http: 404,
    grpc: S.NOT_FOUND,
    reason: "DAPR_SCHEDULER_GET_JOB",
    message: "failed to get job due to: job not found: {name}",
  },
  JOB_GET: {
    errorCode: "DAPR_SCHEDULER_GET_JOB",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_SCHEDULER_GET_JOB",
    message: "failed to get job due to: {error}",
  },
  JOB_DELETE: {
    errorCode: "DAPR_SCHEDULER_DELETE_JOB",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_SCHEDULER_DELETE_JOB",
    message: "failed to delete job due to: {error}",
  },
  JOB_LIST: {
    errorCode: "DAPR_SCHEDULER_LIST_JOBS",
    http: 500,
    grpc: S.INTERNAL,
    reason: "DAPR_SCHEDULER_LIST_JOBS",
    message: "failed to list jobs due to: {error}",
  },

  // Workflows (daprd's pkg/messages predefined workflow errors; the engine's own refusals as
  // the durabletask sidecar answers them)
  WORKFLOW_ENGINE_MISSING: {
    errorCode: "ERR_WORKFLOW_COMPONENT_MISSING",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    message:
      'the workflow engine needs a state store with metadata actorStateStore: "true" (none is loaded)',
  },
  WORKFLOW_COMPONENT_NOT_FOUND: {
    errorCode: "ERR_WORKFLOW_COMPONENT_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "workflow component '{name}' does not exist",
  },
  WORKFLOW_NAME_MISSING: {
    errorCode: "ERR_WORKFLOW_NAME_MISSING",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "workflow name is not configured",
  },
  WORKFLOW_INSTANCE_ID_INVALID: {
    errorCode: "ERR_INSTANCE_ID_INVALID",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message:
      "workflow instance ID '{id}' is invalid: only alphanumeric and underscore characters are allowed",
  },
  WORKFLOW_INSTANCE_ID_TOO_LONG: {
    errorCode: "ERR_INSTANCE_ID_TOO_LONG",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "workflow instance ID exceeds the max length of {max} characters",
  },
  WORKFLOW_INSTANCE_ID_MISSING: {
    errorCode: "ERR_INSTANCE_ID_PROVIDED_MISSING",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "no instance ID was provided",
  },
  WORKFLOW_NOT_FOUND: {
    errorCode: "ERR_INSTANCE_ID_NOT_FOUND",
    http: 404,
    grpc: S.NOT_FOUND,
    message: "unable to find workflow with the provided instance ID: {id}",
  },
  WORKFLOW_EVENT_NAME_MISSING: {
    errorCode: "ERR_WORKFLOW_EVENT_NAME_MISSING",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "missing workflow event name",
  },
  WORKFLOW_EXISTS: {
    errorCode: "ERR_START_WORKFLOW",
    http: 500,
    grpc: S.ALREADY_EXISTS,
    message:
      "error starting workflow '{name}': a workflow with instance ID '{id}' already exists (instance IDs are not reused)",
  },
  WORKFLOW_START: {
    errorCode: "ERR_START_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error starting workflow '{name}': {error}",
  },
  WORKFLOW_GET: {
    errorCode: "ERR_GET_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error while getting workflow info on instance '{id}': {error}",
  },
  WORKFLOW_TERMINATE: {
    errorCode: "ERR_TERMINATE_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error terminating workflow '{id}': {error}",
  },
  WORKFLOW_RAISE_EVENT: {
    errorCode: "ERR_RAISE_EVENT_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error raising event on workflow '{id}': {error}",
  },
  WORKFLOW_PAUSE: {
    errorCode: "ERR_PAUSE_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error pausing workflow {id}: {error}",
  },
  WORKFLOW_RESUME: {
    errorCode: "ERR_RESUME_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error resuming workflow {id}: {error}",
  },
  WORKFLOW_PURGE: {
    errorCode: "ERR_PURGE_WORKFLOW",
    http: 500,
    grpc: S.INTERNAL,
    message: "error purging workflow {id}: {error}",
  },
  WORKFLOW_NOT_TERMINAL: {
    errorCode: "ERR_PURGE_WORKFLOW",
    http: 500,
    grpc: S.FAILED_PRECONDITION,
    message:
      "error purging workflow {id}: it is {status}; only a completed, failed or terminated workflow can be purged",
  },
  WORKFLOW_UNSUPPORTED: {
    errorCode: "ERR_API_UNIMPLEMENTED",
    http: 501,
    grpc: S.UNIMPLEMENTED,
    message: "{what} is not implemented by outrig's workflow engine",
  },

  // Conversation
  CONVERSATION_NOT_FOUND: {
    errorCode: "ERR_CONVERSATION_NOT_FOUND",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "failed finding conversation component {name}",
  },
  CONVERSATION_MISSING_INPUTS: {
    errorCode: "ERR_CONVERSATION_MISSING_INPUTS",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "missing inputs in request for conversation component {name}",
  },
  CONVERSATION_INVALID_PARAMS: {
    errorCode: "ERR_CONVERSATION_INVALID_PARMS",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "invalid parameters for conversation component {name}: {error}",
  },
  CONVERSATION_INVOKE: {
    errorCode: "ERR_CONVERSATION_INVOKE",
    http: 500,
    grpc: S.INTERNAL,
    message: "error invoking conversation component {name}: {error}",
  },
  CONVERSATION_NOT_SUPPORTED: {
    errorCode: "ERR_CONVERSATION_INVOKE",
    http: 400,
    grpc: S.INVALID_ARGUMENT,
    message: "error invoking conversation component {name}: {error}",
  },
  CONVERSATION_TIMEOUT: {
    errorCode: "ERR_CONVERSATION_INVOKE",
    http: 504,
    grpc: S.DEADLINE_EXCEEDED,
    message: "error invoking conversation component {name}: {error}",
  },

  // Actors (Dapr's pkg/messages/predefined.go: plain statuses, no ErrorInfo reason)
  ACTOR_RUNTIME_NOT_FOUND: {
    errorCode: "ERR_ACTOR_RUNTIME_NOT_FOUND",
    http: 500,
    grpc: S.INTERNAL,
    message:
      'the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: "true" in your state store component file?',
  },
  ACTOR_INSTANCE_MISSING: {
    errorCode: "ERR_ACTOR_INSTANCE_MISSING",
    http: 400,
    grpc: S.INTERNAL,
    message: "actor instance is missing",
  },
  ACTOR_INVOKE: {
    errorCode: "ERR_ACTOR_INVOKE_METHOD",
    http: 500,
    grpc: S.INTERNAL,
    message: "error invoke actor method: {error}",
  },
  ACTOR_STATE_GET: {
    errorCode: "ERR_ACTOR_STATE_GET",
    http: 500,
    grpc: S.INTERNAL,
    message: "error getting actor state: {error}",
  },
  ACTOR_STATE_TRANSACTION: {
    errorCode: "ERR_ACTOR_STATE_TRANSACTION_SAVE",
    http: 500,
    grpc: S.INTERNAL,
    message: "error saving actor transaction state: {error}",
  },
  ACTOR_REMINDER_NON_HOSTED: {
    errorCode: "ERR_ACTOR_REMINDER_NON_HOSTED",
    http: 403,
    grpc: S.PERMISSION_DENIED,
    message: "operations on actor reminders are only possible on hosted actor types",
  },
  ACTOR_REMINDER_CREATE: {
    errorCode: "ERR_ACTOR_REMINDER_CREATE",
    http: 500,
    grpc: S.INTERNAL,
    message: "error creating actor reminder: {error}",
  },
  ACTOR_REMINDER_EXISTS: {
    errorCode: "ERR_ACTOR_REMINDER_ALREADY_EXISTS",
    http: 409,
    grpc: S.ALREADY_EXISTS,
    message: "actor reminder already exists: {name}",
  },
  ACTOR_REMINDER_GET: {
    errorCode: "ERR_ACTOR_REMINDER_GET",
    http: 500,
    grpc: S.INTERNAL,
    message: "error getting actor reminder: {error}",
  },
  ACTOR_REMINDER_NOT_FOUND: {
    errorCode: "ERR_ACTOR_REMINDER_NOT_FOUND",
    http: 404,
    grpc: S.NOT_FOUND,
    message: "actor reminder not found: {name}",
  },
  ACTOR_REMINDER_DELETE: {
    errorCode: "ERR_ACTOR_REMINDER_DELETE",
    http: 500,
    grpc: S.INTERNAL,
    message: "error deleting actor reminder: {error}",
  },
  ACTOR_TIMER_CREATE: {
    errorCode: "ERR_ACTOR_TIMER_CREATE",
    http: 500,
    grpc: S.INTERNAL,
    message: "error creating actor timer: {error}",
  },
  ACTOR_RUNTIME_CLOSED: {
    errorCode: "ERR_ACTOR_RUNTIME_CLOSED",
    http: 503,
    grpc: S.UNAVAILABLE,
    message: "actor runtime is closed",
  },

  // Service invocation
  DIRECT_INVOKE: {
    errorCode: "ERR_DIRECT_INVOKE",
    http: 500,
    grpc: S.INTERNAL,
    message: "failed to invoke, id: {appId}, err: {error}",
  },
  DIRECT_INVOKE_FORBIDDEN: {
    errorCode: "ERR_DIRECT_INVOKE",
    http: 403,
    grpc: S.PERMISSION_DENIED,
    message: "{detail}",
  },
  DIRECT_INVOKE_NO_APP_ID: {
    errorCode: "ERR_DIRECT_INVOKE",
    http: 404,
    grpc: S.INVALID_ARGUMENT,
    message: "failed getting app id either from the URL path or the header dapr-app-id",
  },
} as const satisfies Record<string, ApiErrorEntry>;

export type ApiErrorKind = keyof typeof API_ERRORS;
export type ApiErrorParams = Record<string, string | number | undefined>;

/** Fills `{name}` placeholders; a missing parameter leaves an empty string. */
export function formatMessage(template: string, params: ApiErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? ""));
}

/**
 * The one error type of the API core. Each transport encodes it: HTTP as `status` with
 * `{errorCode, message}`, gRPC as `grpcStatus` with `message` and an ErrorInfo of `reason`.
 */
export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly errorCode: string;
  /** HTTP status. */
  readonly status: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly reason: string | undefined;
  /** ErrorInfo metadata (e.g. the limit that was exceeded). */
  readonly metadata: Record<string, string>;

  constructor(
    kind: ApiErrorKind,
    message: string,
    options: { cause?: unknown; metadata?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    const entry: ApiErrorEntry = API_ERRORS[kind];
    this.name = "ApiError";
    this.kind = kind;
    this.errorCode = entry.errorCode;
    this.status = entry.http;
    this.grpcStatus = entry.grpc;
    this.reason = entry.reason;
    this.metadata = options.metadata ?? {};
  }
}

/** An ApiError of `kind` with its registry message filled from `params`. */
export function apiError(
  kind: ApiErrorKind,
  params: ApiErrorParams = {},
  options: { cause?: unknown; metadata?: Record<string, string> } = {},
): ApiError {
  return new ApiError(kind, formatMessage(API_ERRORS[kind].message, params), options);
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** The API operation a component failure happened in; each has its own Dapr errorCode. */
export type ApiOperation =
  | "stateGet"
  | "stateBulkGet"
  | "stateSave"
  | "stateDelete"
  | "stateTransaction"
  | "stateQuery"
  | "publish"
  | "bulkPublish"
  | "outputBinding"
  | "secretGet"
  | "secretBulkGet"
  | "configurationGet"
  | "configurationSubscribe"
  | "configurationUnsubscribe"
  | "tryLock"
  | "unlock"
  | "conversation"
  | "invoke";

interface OperationErrors {
  /** The registry entry for a failure of this operation. */
  default: ApiErrorKind;
  /** Entries for the core codes Dapr treats differently (ETag mismatch 409, invalid ETag 400, ...). */
  codes?: Partial<Record<ErrorCode, ApiErrorKind>>;
}

/**
 * From core `ComponentError` codes to registry entries, per operation. The message is the
 * default entry's, so a mapped failure keeps its operation's wording.
 */
export const ERROR_TABLE: Record<ApiOperation, OperationErrors> = {
  stateGet: { default: "STATE_GET" },
  stateBulkGet: { default: "STATE_BULK_GET" },
  stateSave: {
    default: "STATE_SAVE",
    codes: {
      ERR_ETAG_MISMATCH: "STATE_SAVE_ETAG_MISMATCH",
      ERR_ETAG_INVALID: "STATE_SAVE_ETAG_INVALID",
    },
  },
  stateDelete: {
    default: "STATE_DELETE",
    codes: {
      ERR_ETAG_MISMATCH: "STATE_DELETE_ETAG_MISMATCH",
      ERR_ETAG_INVALID: "STATE_DELETE_ETAG_INVALID",
    },
  },
  stateTransaction: {
    default: "STATE_TRANSACTION",
    codes: { ERR_NOT_SUPPORTED: "STATE_TRANSACTIONS_NOT_SUPPORTED" },
  },
  stateQuery: {
    default: "STATE_QUERY",
    codes: {
      ERR_NOT_SUPPORTED: "STATE_QUERY_NOT_SUPPORTED",
      ERR_INVALID_REQUEST: "STATE_QUERY_INVALID",
    },
  },
  publish: {
    default: "PUBSUB_PUBLISH_MESSAGE",
    codes: { ERR_INVALID_REQUEST: "PUBSUB_REQUEST_METADATA" },
  },
  bulkPublish: { default: "PUBSUB_PUBLISH_MESSAGE" },
  outputBinding: { default: "BINDING_INVOKE_OUTPUT" },
  secretGet: { default: "SECRET_GET" },
  secretBulkGet: { default: "SECRET_BULK_GET" },
  configurationGet: { default: "CONFIGURATION_GET" },
  configurationSubscribe: { default: "CONFIGURATION_SUBSCRIBE" },
  configurationUnsubscribe: { default: "CONFIGURATION_UNSUBSCRIBE" },
  tryLock: { default: "TRY_LOCK" },
  unlock: { default: "UNLOCK" },
  conversation: {
    default: "CONVERSATION_INVOKE",
    codes: {
      ERR_NOT_SUPPORTED: "CONVERSATION_NOT_SUPPORTED",
      ERR_INVALID_REQUEST: "CONVERSATION_INVALID_PARAMS",
      ERR_TIMEOUT: "CONVERSATION_TIMEOUT",
    },
  },
  invoke: { default: "DIRECT_INVOKE" },
};

/** The code that decides the status: for a bulk failure, its first item's (as Go's errors.As). */
function effectiveCode(error: unknown): ErrorCode | undefined {
  if (error instanceof BulkError) {
    const first = error.errors[0];
    const inner = first?.cause;
    return inner instanceof ComponentError ? inner.code : first?.code;
  }
  return error instanceof ComponentError ? error.code : undefined;
}

function kindFor(operation: ApiOperation, error: unknown): ApiErrorKind {
  const entry = ERROR_TABLE[operation];
  const code = effectiveCode(error);
  return (code && entry.codes?.[code]) || entry.default;
}

/** The HTTP status and Dapr errorCode a component failure of `operation` answers. */
export function mapError(
  operation: ApiOperation,
  error: unknown,
): { status: number; errorCode: string } {
  const entry = API_ERRORS[kindFor(operation, error)];
  return { status: entry.http, errorCode: entry.errorCode };
}

/** A component failure of `operation` as an ApiError; `params` fill the operation's message. */
export function fromComponentError(
  operation: ApiOperation,
  error: unknown,
  params: ApiErrorParams,
): ApiError {
  if (error instanceof ApiError) return error;
  const kind = kindFor(operation, error);
  const template = API_ERRORS[ERROR_TABLE[operation].default].message;
  const detail = error instanceof Error ? error.message : String(error);
  return new ApiError(kind, formatMessage(template, { ...params, error: detail }), {
    cause: error,
  });
}

/**
 * The Dapr building blocks outrig does not implement. HTTP answers their routes 501
 * ERR_API_UNIMPLEMENTED naming the API (never the invocation fallback's 404); gRPC answers their
 * methods UNIMPLEMENTED; a component of one of their kinds is skipped with a warning naming its
 * type (the sidecar still starts, as the API answers 501 anyway).
 */
export const UNIMPLEMENTED_APIS: readonly {
  /** The building block, as named in messages. */
  api: string;
  /** HTTP route prefixes (every path below them). */
  http: readonly string[];
  /** gRPC method names of `dapr.proto.runtime.v1.Dapr` belonging to it. */
  grpc: RegExp;
  /** Component type prefixes (`lock` for `lock.redis`) of this building block. */
  componentKinds?: readonly string[];
}[] = [
  // Of the actor methods only this one is not served yet.
  {
    api: "actors",
    http: [],
    grpc: /^SubscribeActorEventsAlpha1$/,
  },
  {
    // Encrypt/decrypt are served; the low-level subtlecrypto methods are not.
    api: "cryptography",
    http: ["/v1.0-alpha1/subtlecrypto"],
    grpc: /^Subtle/,
  },
  {
    // Served over HTTP (v1.0, v1.0-beta1) and TaskHubSidecarService; the Dapr service's
    // StartWorkflowBeta1-style methods and the retired alpha1 routes are not.
    api: "workflows",
    http: ["/v1.0-alpha1/workflows"],
    grpc: /Workflow/,
    componentKinds: ["workflow"],
  },
  // Component kinds without an API route of their own.
  { api: "HTTP middleware", http: [], grpc: /(?!)/, componentKinds: ["middleware"] },
  { api: "name resolution", http: [], grpc: /(?!)/, componentKinds: ["nameresolution"] },
];

/** The unimplemented API a gRPC method belongs to, if any. */
export function unimplementedApiOf(grpcMethod: string): string | undefined {
  return UNIMPLEMENTED_APIS.find((a) => a.grpc.test(grpcMethod))?.api;
}

/** The unimplemented building block a component type (`lock.redis`) belongs to, if any. */
export function unimplementedKindOf(componentType: string): string | undefined {
  const kind = componentType.split(".")[0] ?? "";
  return UNIMPLEMENTED_APIS.find((a) => a.componentKinds?.includes(kind))?.api;
}

/** Building-block names of route segments outrig does not serve under any version. */
const SEGMENT_APIS: Readonly<Record<string, string>> = {
  actors: "actors",
  configuration: "configuration",
  lock: "distributed lock",
  unlock: "distributed lock",
  crypto: "cryptography",
  subtlecrypto: "cryptography",
  workflows: "workflows",
  jobs: "jobs",
  conversation: "conversation",
};

/**
 * The building block a path under a Dapr API version (`/v1.0/…`, `/v1.0-alpha1/…`, `/v1.0-beta1/…`)
 * names, for a path no route serves: every such path is Dapr's API space, never an app method.
 */
export function apiOfPath(path: string): string | undefined {
  const m = /^\/v1\.0(?:-(?:alpha|beta)\d+)?\/([^/]+)/.exec(path);
  if (!m) return undefined;
  const segment = (m[1] as string).toLowerCase();
  return SEGMENT_APIS[segment] ?? segment;
}
