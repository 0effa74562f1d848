// One setup for the tests that run the unmodified @dapr/dapr SDK as the app: a sidecar on free
// ports, the SDK's DaprServer (HTTP or gRPC) as its app, and a DaprClient talking to the sidecar.
import type { DaprClient, DaprServer } from "@dapr/dapr";
import type { Sidecar, SidecarOptions } from "../src/index.ts";
import { daprApp, daprClient, freePort, sidecar } from "./helpers.ts";

export type Protocol = "http" | "grpc";

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
  /** How the test's DaprClient reaches the sidecar. Default: appProtocol. */
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
  const appPort = await freePort();
  const s = await sidecar({
    appId: options.appId,
    appPort,
    appProtocol,
    grpcPort: 0,
    ...(options.apiToken ? { apiToken: options.apiToken } : {}),
    ...options.sidecar,
  });
  const server = daprApp(appPort, s, appProtocol, options.apiToken);
  const client = daprClient(s, options.clientProtocol ?? appProtocol, options.apiToken);
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
