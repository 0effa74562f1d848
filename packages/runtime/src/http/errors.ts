import { BulkError, ComponentError, type ErrorCode } from "@outrig/core";

/** The API operation an error happened in; each has its own Dapr errorCode. */
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
  | "invoke";

interface Mapping {
  status: number;
  errorCode: string;
}

/**
 * The one table from core error codes to HTTP statuses and Dapr error codes. Each operation has
 * its default (Dapr's status for a component failure) and overrides for the codes Dapr treats
 * differently (ETag mismatch 409, invalid ETag 400, unsupported operations, ...).
 */
export const ERROR_TABLE: Record<
  ApiOperation,
  { default: Mapping; codes?: Partial<Record<ErrorCode, Mapping>> }
> = {
  stateGet: { default: { status: 500, errorCode: "ERR_STATE_GET" } },
  stateBulkGet: { default: { status: 500, errorCode: "ERR_STATE_BULK_GET" } },
  stateSave: {
    default: { status: 500, errorCode: "ERR_STATE_SAVE" },
    codes: {
      ERR_ETAG_MISMATCH: { status: 409, errorCode: "ERR_STATE_SAVE" },
      ERR_ETAG_INVALID: { status: 400, errorCode: "ERR_STATE_SAVE" },
    },
  },
  stateDelete: {
    default: { status: 500, errorCode: "ERR_STATE_DELETE" },
    codes: {
      ERR_ETAG_MISMATCH: { status: 409, errorCode: "ERR_STATE_DELETE" },
      ERR_ETAG_INVALID: { status: 400, errorCode: "ERR_STATE_DELETE" },
    },
  },
  stateTransaction: {
    default: { status: 500, errorCode: "ERR_STATE_TRANSACTION" },
    codes: { ERR_NOT_SUPPORTED: { status: 500, errorCode: "ERR_STATE_STORE_NOT_SUPPORTED" } },
  },
  stateQuery: {
    default: { status: 500, errorCode: "ERR_STATE_QUERY" },
    codes: {
      ERR_NOT_SUPPORTED: { status: 500, errorCode: "ERR_STATE_STORE_NOT_SUPPORTED" },
      ERR_INVALID_REQUEST: { status: 400, errorCode: "ERR_MALFORMED_REQUEST" },
    },
  },
  publish: {
    default: { status: 500, errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE" },
    codes: { ERR_INVALID_REQUEST: { status: 400, errorCode: "ERR_PUBSUB_REQUEST_METADATA" } },
  },
  bulkPublish: { default: { status: 500, errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE" } },
  outputBinding: { default: { status: 500, errorCode: "ERR_INVOKE_OUTPUT_BINDING" } },
  secretGet: { default: { status: 500, errorCode: "ERR_SECRET_GET" } },
  invoke: { default: { status: 500, errorCode: "ERR_DIRECT_INVOKE" } },
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

export function mapError(operation: ApiOperation, error: unknown): Mapping {
  const entry = ERROR_TABLE[operation];
  const code = effectiveCode(error);
  return (code && entry.codes?.[code]) || entry.default;
}

export interface ApiError {
  status: number;
  errorCode: string;
  message: string;
}

export function apiError(status: number, errorCode: string, message: string): ApiError {
  return { status, errorCode, message };
}

export function fromComponentError(
  operation: ApiOperation,
  error: unknown,
  prefix: string,
): ApiError {
  const { status, errorCode } = mapError(operation, error);
  return { status, errorCode, message: `${prefix}: ${(error as Error)?.message ?? String(error)}` };
}
