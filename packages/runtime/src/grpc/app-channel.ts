import * as grpc from "@grpc/grpc-js";
import type { InvokeRequest__Output } from "./generated/dapr/proto/common/v1/InvokeRequest.ts";
import type { InvokeResponse__Output } from "./generated/dapr/proto/common/v1/InvokeResponse.ts";
import type { AppCallbackClient } from "./generated/dapr/proto/runtime/v1/AppCallback.ts";
import type { AppCallbackHealthCheckClient } from "./generated/dapr/proto/runtime/v1/AppCallbackHealthCheck.ts";
import { daprProtos } from "./protos.ts";

/**
 * The sidecar's gRPC connection to an app served over gRPC (`appProtocol: "grpc"`): calls its
 * `dapr.proto.runtime.v1.AppCallback`, with APP_API_TOKEN as `dapr-api-token` metadata.
 */
export class GrpcAppChannel {
  readonly #client: AppCallbackClient;
  readonly #health: AppCallbackHealthCheckClient;
  readonly #token: string | undefined;

  constructor(host: string, port: number, token: string | undefined) {
    const { appCallback } = daprProtos();
    const address = `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
    this.#client = new appCallback.dapr.proto.runtime.v1.AppCallback(
      address,
      grpc.credentials.createInsecure(),
    );
    this.#health = new appCallback.dapr.proto.runtime.v1.AppCallbackHealthCheck(
      address,
      grpc.credentials.createInsecure(),
    );
    this.#token = token;
  }

  /** AppCallback.OnInvoke; cancelled with `signal`, failing after `timeoutMs`. */
  invoke(
    request: InvokeRequest__Output,
    headers: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<InvokeResponse__Output> {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
    if (this.#token) metadata.set("dapr-api-token", this.#token);
    return new Promise((resolve, reject) => {
      const call = this.#client.OnInvoke(
        request,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error, response) => (error || !response ? reject(error) : resolve(response)),
      );
      signal.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  /** AppCallbackHealthCheck.HealthCheck: healthy when it answers OK within `timeoutMs`. */
  healthCheck(timeoutMs: number): Promise<boolean> {
    const metadata = new grpc.Metadata();
    if (this.#token) metadata.set("dapr-api-token", this.#token);
    return new Promise((resolve) => {
      this.#health.HealthCheck({}, metadata, { deadline: Date.now() + timeoutMs }, (error) =>
        resolve(!error),
      );
    });
  }

  close(): void {
    this.#health.close();
    this.#client.close();
  }
}
