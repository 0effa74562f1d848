import * as grpc from "@grpc/grpc-js";
import { ApiError, apiError, ERROR_INFO_DOMAIN } from "../api/errors.ts";
import { AppStatusError } from "./app-invoke.ts";
import { daprProtos } from "./protos.ts";

/** Where toServiceError leaves the Dapr error code of the status it made (not sent on the wire). */
export const ERROR_CODE = Symbol("errorCode");

/** The Dapr error code of a status made by toServiceError, if it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  return (error as { [ERROR_CODE]?: string } | null)?.[ERROR_CODE];
}

/** A google.rpc.Status with one google.rpc.ErrorInfo (domain dapr.io), encoded. */
function statusDetails(
  code: number,
  message: string,
  info: { reason: string; metadata: Record<string, string> },
): Buffer {
  const { status, errorInfo } = daprProtos();
  const encoded = errorInfo.encode(
    errorInfo.create({ reason: info.reason, domain: ERROR_INFO_DOMAIN, metadata: info.metadata }),
  );
  const details = status
    .encode(
      status.create({
        code,
        message,
        details: [
          { type_url: "type.googleapis.com/google.rpc.ErrorInfo", value: encoded.finish() },
        ],
      }),
    )
    .finish();
  return Buffer.from(details);
}

/**
 * An ApiError as a gRPC status, as daprd sends it: the registry's status code and message, and
 * where the registry has a reason, `grpc-status-details-bin` holding a google.rpc.Status with one
 * google.rpc.ErrorInfo (reason, domain dapr.io, metadata). An app's own status (AppStatusError)
 * is passed through; anything else is INTERNAL.
 */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  // An app's own status reaches the caller unchanged, as daprd passes it through.
  if (error instanceof AppStatusError) {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(error.headers)) metadata.set(k, v);
    if (error.info)
      metadata.set("grpc-status-details-bin", statusDetails(error.code, error.details, error.info));
    return { code: error.code as grpc.status, details: error.details, metadata };
  }
  const e =
    error instanceof ApiError
      ? error
      : apiError("INTERNAL", { detail: error instanceof Error ? error.message : String(error) });
  const metadata = new grpc.Metadata();
  if (e.reason) {
    metadata.set(
      "grpc-status-details-bin",
      statusDetails(e.grpcStatus, e.message, { reason: e.reason, metadata: e.metadata }),
    );
  }
  return {
    code: e.grpcStatus as number as grpc.status,
    details: e.message,
    metadata,
    [ERROR_CODE]: e.errorCode,
  } as Partial<grpc.StatusObject>;
}
