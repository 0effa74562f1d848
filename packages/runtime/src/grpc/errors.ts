import * as grpc from "@grpc/grpc-js";
import { ApiError, apiError, ERROR_INFO_DOMAIN } from "../api/errors.ts";
import { daprProtos } from "./protos.ts";

/**
 * An ApiError as a gRPC status, as daprd sends it: the registry's status code and message, and
 * where the registry has a reason, `grpc-status-details-bin` holding a google.rpc.Status with one
 * google.rpc.ErrorInfo (reason, domain dapr.io, metadata). Anything else is INTERNAL.
 */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
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
