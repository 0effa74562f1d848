import * as grpc from "@grpc/grpc-js";
import { ApiError, apiError, ERROR_INFO_DOMAIN } from "../api/errors.ts";
import { AppStatusError } from "./app-invoke.ts";
import { daprProtos } from "./protos.ts";

/**
 * An ApiError as a gRPC status, as daprd sends it: the registry's status code and message, and
 * where the registry has a reason, `grpc-status-details-bin` holding a google.rpc.Status with one
 * google.rpc.ErrorInfo (reason, domain dapr.io, metadata). An app's own status (AppStatusError)
 * is passed through; anything else is INTERNAL.
 */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  // An app's own status reaches the caller unchanged, as daprd passes it through.
  if (error instanceof AppStatusError)
    return {
      code: error.code as grpc.status,
      details: error.details,
      metadata: new grpc.Metadata(),
    };
  const e =
    error instanceof ApiError
      ? error
      : apiError("INTERNAL", { detail: error instanceof Error ? error.message : String(error) });
  const metadata = new grpc.Metadata();
  if (e.reason) {
    const { status, errorInfo } = daprProtos();
    const info = errorInfo.encode(
      errorInfo.create({ reason: e.reason, domain: ERROR_INFO_DOMAIN, metadata: e.metadata }),
    );
    const details = status
      .encode(
        status.create({
          code: e.grpcStatus,
          message: e.message,
          details: [{ type_url: "type.googleapis.com/google.rpc.ErrorInfo", value: info.finish() }],
        }),
      )
      .finish();
    metadata.set("grpc-status-details-bin", Buffer.from(details));
  }
  return { code: e.grpcStatus as number as grpc.status, details: e.message, metadata };
}
