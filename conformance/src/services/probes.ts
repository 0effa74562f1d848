import { createConnection } from "node:net";

/**
 * What the readiness probes (`<service>/probe.ts`) share. Each probe speaks its service's own
 * protocol over one TCP connection, so "ready" means the service answers requests, not merely
 * that its port is open; written against the wire formats directly to keep client libraries out
 * of the conformance package's dependencies.
 */

export const PROBE_TIMEOUT_MS = 5_000;

/** Sends `request`, then feeds the bytes received so far to `read` until it returns a result. */
export function exchange<T>(
  host: string,
  port: number,
  request: Buffer,
  read: (received: Buffer, socket: { write(data: Buffer): void }) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = createConnection({ host, port });
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${host}:${port} within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      try {
        const value = read(received, socket);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error(`${host}:${port} closed the connection`)));
  });
}

/** Retries `probe` until it resolves or `timeoutMs` passes; the last failure is the cause. */
export async function waitUntilReady<T>(
  what: string,
  probe: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} did not become ready within ${timeoutMs} ms: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
