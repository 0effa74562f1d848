import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CommunicationProtocolEnum, DaprClient, DaprServer, LogLevel } from "@dapr/dapr";
import { waitFor } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { daprProtos } from "../src/grpc/protos.ts";
import { createRegistry, type Sidecar, type SidecarOptions, startSidecar } from "../src/index.ts";
import { manifest as strictEtag } from "./fixtures/strict-etag-store.ts";
import { manifest as testBindings } from "./fixtures/test-bindings.ts";

export const STATE_AND_PUBSUB = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: strictstore
spec:
  type: state.strict-etag
  version: v1
`;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export function sidecar(
  options: Partial<SidecarOptions> & { resources?: string },
): Promise<Sidecar> {
  return startSidecar({
    appId: "app1",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [testBindings, strictEtag] }),
    resources: STATE_AND_PUBSUB,
    ...options,
  });
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/**
 * A real HTTP app: records every request and answers through `reply`. Unless `actors` is set it
 * hosts no actors: the sidecar's `GET /dapr/config` is answered 404 without being recorded.
 */
export async function fakeApp(
  reply: (r: Received, res: ServerResponse) => void,
  options: { actors?: boolean } = {},
): Promise<{ server: Server; port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    if (!options.actors && req.method === "GET" && req.url === "/dapr/config") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      received.push(r);
      reply(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Waits for `probe` to yield a value (5 s by default): `waitFor` with this suite's default. */
export function until<T>(probe: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  return waitFor(probe, timeoutMs);
}

/**
 * The unmodified @dapr/dapr DaprServer as an app on `appPort` over `protocol`, its client talking
 * to the sidecar's gRPC (or HTTP) API; not started, so the test can register handlers first.
 */
export function daprApp(
  appPort: number,
  s: Sidecar,
  protocol: "grpc" | "http",
  apiToken?: string,
  /** How the server's own client reaches the sidecar; default: `protocol`. */
  clientProtocol: "grpc" | "http" = protocol,
): DaprServer {
  const logger = { level: LogLevel.Error };
  const grpc = protocol === "grpc";
  const grpcClient = clientProtocol === "grpc";
  return new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: grpc ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP,
    clientOptions: {
      daprHost: "127.0.0.1",
      daprPort: String(grpcClient ? s.grpcPort : s.httpPort),
      communicationProtocol: grpcClient
        ? CommunicationProtocolEnum.GRPC
        : CommunicationProtocolEnum.HTTP,
      ...(apiToken ? { daprApiToken: apiToken } : {}),
      logger,
    },
    logger,
  });
}

/** The unmodified @dapr/dapr DaprClient on a sidecar's gRPC (or HTTP) API. */
export function daprClient(s: Sidecar, protocol: "grpc" | "http", apiToken?: string): DaprClient {
  const grpc = protocol === "grpc";
  return new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(grpc ? s.grpcPort : s.httpPort),
    communicationProtocol: grpc ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP,
    ...(apiToken ? { daprApiToken: apiToken } : {}),
    logger: { level: LogLevel.Error },
  });
}

/** The unmodified @dapr/dapr DaprClient on a sidecar's gRPC API. */
export function daprGrpcClient(s: Sidecar, apiToken?: string): DaprClient {
  return daprClient(s, "grpc", apiToken);
}

/** One raw unary gRPC call's failure: status code, message and ErrorInfo reason (domain dapr.io). */
export async function grpcFailure(
  client: object,
  method: string,
  request: object,
  metadata: import("@grpc/grpc-js").Metadata,
): Promise<{ code: number; details: string; reason: string | undefined }> {
  const error = await new Promise<import("@grpc/grpc-js").ServiceError | null>((resolve) => {
    (client as Record<string, (...a: unknown[]) => void>)[method]?.call(
      client,
      request,
      metadata,
      (e: import("@grpc/grpc-js").ServiceError | null) => resolve(e),
    );
  });
  if (!error) throw new Error(`${method} succeeded`);
  const bin = error.metadata.get("grpc-status-details-bin")[0];
  let reason: string | undefined;
  if (bin instanceof Buffer) {
    const { status, errorInfo } = daprProtos();
    const decoded = status.decode(bin) as unknown as {
      details: { type_url: string; value: Uint8Array }[];
    };
    const info = decoded.details.find((d) => d.type_url.endsWith("google.rpc.ErrorInfo"));
    if (info) {
      const e = errorInfo.decode(info.value) as unknown as { reason: string; domain: string };
      if (e.domain !== "dapr.io") throw new Error(`ErrorInfo domain ${e.domain}`);
      reason = e.reason;
    }
  }
  return { code: error.code, details: error.details, reason };
}
