import { createServer } from "node:net";
import { CliError } from "./errors.ts";

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Fails fast with a clear message instead of letting the sidecar die on EADDRINUSE later. */
export function assertPortFree(port: number, flag: string, host = "127.0.0.1"): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new CliError(`${flag}: port ${port} is not available (${error.code ?? error.message})`),
      ),
    );
    server.listen(port, host, () => server.close(() => resolvePort()));
  });
}
