// One setup for the tests that run the unmodified @dapr/dapr SDK as the app: a sidecar on free
// ports, the SDK's DaprServer (HTTP or gRPC) as its app, and a DaprClient talking to the sidecar.
import { CommunicationProtocolEnum, DaprClient, DaprServer, LogLevel } from "@dapr/dapr";
import type { Sidecar, SidecarOptions } from "../src/index.ts";
import { freePort, sidecar } from "./helpers.ts";

export type Protocol = "http" | "grpc";

const PROTOCOLS = {
  http: CommunicationProtocolEnum.HTTP,
  grpc: CommunicationProtocolEnum.GRPC,
} as const;

export interface SdkApp {
  sidecar: Sidecar;
  server: DaprServer;
  client: DaprClient;
  stop(): Promise<void>;
}

export interface SdkAppOptions {
  appId: string;
  /** How the DaprServer serves the app (and the sidecar's appProtocol). Default http. */
  appProtocol?: Protocol;
  /** How the DaprClient (and the server's own client) reach the sidecar. Default: appProtocol. */
  clientProtocol?: Protocol;
  /** DAPR_API_TOKEN of the sidecar, sent by both SDK clients. */
  apiToken?: string;
  /** More sidecar options (resources, appApiToken, appMaxConcurrency, ...). */
  sidecar?: Partial<SidecarOptions>;
  /** Registers subscriptions, bindings and handlers on the server before it starts. */
  register?: (server: DaprServer) => Promise<void>;
  /** Leave the server unstarted (and the sidecar not ready): the test starts it. */
  deferStart?: boolean;
}

/** Starts the sidecar and the SDK app; resolves once the sidecar is ready (unless deferStart). */
export async function startSdkApp(options: SdkAppOptions): Promise<SdkApp> {
  const appProtocol = options.appProtocol ?? "http";
  const clientProtocol = options.clientProtocol ?? appProtocol;
  const appPort = await freePort();
  const s = await sidecar({
    appId: options.appId,
    appPort,
    appProtocol,
    grpcPort: 0,
    ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    ...options.sidecar,
  });
  const logger = { level: LogLevel.Error };
  const daprPort = String(clientProtocol === "grpc" ? s.grpcPort : s.httpPort);
  const clientOptions = {
    daprHost: "127.0.0.1",
    daprPort,
    communicationProtocol: PROTOCOLS[clientProtocol],
    ...(options.apiToken ? { daprApiToken: options.apiToken } : {}),
    logger,
  };
  const server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: PROTOCOLS[appProtocol],
    clientOptions,
    logger,
  });
  const client = new DaprClient(clientOptions);
  const stop = async (): Promise<void> => {
    await client.stop().catch(() => undefined);
    await server.stop().catch(() => undefined);
    await s.stop();
  };
  try {
    await options.register?.(server);
    if (!options.deferStart) {
      await server.start();
      await s.ready();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { sidecar: s, server, client, stop };
}
