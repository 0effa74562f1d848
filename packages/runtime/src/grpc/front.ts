import type { EventEmitter } from "node:events";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { createServer, type Server } from "node:net";
import * as grpc from "@grpc/grpc-js";

/** Decides, per HTTP/2 stream, whether the front handles it itself (true) or grpc-js serves it. */
export type StreamRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

export interface GrpcFront {
  readonly port: number;
  /** Stops accepting connections; open ones are asked to go away (GOAWAY) and may finish. */
  stopAccepting(): void;
}

type StreamListener = (...args: unknown[]) => void;

/**
 * The HTTP/2 server grpc-js creates for a connection injector. grpc-js has no catch-all
 * handler, and its only public way in is per connection, while routing must be per stream (one
 * client connection carries Dapr calls and proxied ones alike). So the front injects every
 * connection and takes the injector's server from `Server.http2Servers`, grpc-js's own map of its
 * HTTP/2 servers (private in its types), as the one entry the injector added; if a grpc-js
 * release changes that, start-up fails here naming it, not at the first proxied call.
 */
function injectorServer(server: grpc.Server): {
  injector: ReturnType<grpc.Server["createConnectionInjector"]>;
  http2: EventEmitter;
} {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) {
    throw new Error(
      "@grpc/grpc-js no longer keeps Server.http2Servers: the gRPC front cannot route streams",
    );
  }
  const before = new Set(servers.keys());
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const added = [...servers.keys()].filter((k) => !before.has(k));
  const http2 = added[0] as EventEmitter | undefined;
  if (
    added.length !== 1 ||
    typeof http2?.listeners !== "function" ||
    !http2.listenerCount("stream")
  ) {
    throw new Error(
      "@grpc/grpc-js's connection injector changed shape: the gRPC front cannot route streams",
    );
  }
  return { injector, http2 };
}

/**
 * Listens on `host:port` and hands every connection to `server` (a grpc-js server, never bound
 * itself), except the streams `route` takes: those never reach grpc-js. Dapr's own services
 * and any other service added to `server` are served as before; only the stream dispatch is
 * one function call longer.
 */
export async function startGrpcFront(
  server: grpc.Server,
  host: string,
  port: number,
  route: StreamRoute,
): Promise<GrpcFront> {
  const { injector, http2 } = injectorServer(server);
  const served = http2.listeners("stream") as StreamListener[];
  http2.removeAllListeners("stream");
  http2.on("stream", (...args: unknown[]) => {
    if (route(args[0] as ServerHttp2Stream, args[1] as IncomingHttpHeaders)) return;
    for (const listener of served) listener.apply(http2, args);
  });
  const listener: Server = createServer((socket) => injector.injectConnection(socket));
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(port, host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const address = listener.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    stopAccepting: () => {
      listener.close();
      // GOAWAY to every client; streams in flight finish, the drain's force step cuts the rest.
      injector.drain(2_147_483_647);
    },
  };
}
