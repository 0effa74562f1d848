import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { HttpTarget } from "./http-client.ts";
import { Semaphore } from "./semaphore.ts";

export interface AppChannelOptions {
  host: string;
  port: number;
  /** Sent as `dapr-api-token` on every call to the app (APP_API_TOKEN). */
  token?: string | undefined;
  /** app-max-concurrency: at most this many calls to the app at once. */
  maxConcurrency?: number | undefined;
  /** Called when a buffered call to the app ends: method, path, status (0 = failed), ms, bytes. */
  observe?:
    | ((
        method: string,
        path: string,
        status: number,
        ms: number,
        sentBytes: number,
        receivedBytes: number,
      ) => void)
    | undefined;
}

export interface AppResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The sidecar's HTTP connection to its app: token, concurrency limit, and two keep-alive pools,
 * `target` for service invocation and `deliveries` for subscriptions, input bindings and
 * discovery, so no amount of invocation traffic (hung or abandoned) can starve deliveries.
 */
export class AppChannel {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly maxConcurrency: number | undefined;
  readonly target: HttpTarget;
  readonly deliveries: HttpTarget;
  readonly limit: Semaphore;
  readonly #observe: AppChannelOptions["observe"];

  constructor(options: AppChannelOptions) {
    this.host = options.host;
    this.port = options.port;
    this.token = options.token;
    this.maxConcurrency = options.maxConcurrency;
    this.target = new HttpTarget(options.host, options.port);
    this.deliveries = new HttpTarget(options.host, options.port);
    this.limit = new Semaphore(options.maxConcurrency);
    this.#observe = options.observe;
  }

  /** Dials the app port every 100 ms until it accepts a connection, as daprd does. */
  async waitForPort(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: this.host, port: this.port });
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => {
          socket.destroy();
          resolve(false);
        });
      });
      if (open) return;
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
    throw new Error("stopped while waiting for the app port");
  }

  /**
   * One app health probe: `GET path`, healthy on 2xx within `timeoutMs`. It bypasses
   * app-max-concurrency, as daprd's prober does, so a busy app is not taken for a dead one.
   */
  async probe(path: string, timeoutMs: number): Promise<boolean> {
    const headers: Record<string, string> = this.token ? { "dapr-api-token": this.token } : {};
    const response = await this.deliveries.call(
      "GET",
      path.startsWith("/") ? path : `/${path}`,
      headers,
      undefined,
      timeoutMs,
    );
    return response.status >= 200 && response.status < 300;
  }

  /** One buffered call to the app (subscriptions, bindings, discovery). */
  request(options: {
    method: "GET" | "POST" | "OPTIONS";
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
  }): Promise<AppResponse> {
    return this.limit.run(async () => {
      const headers: Record<string, string> = { ...options.headers };
      if (this.token) headers["dapr-api-token"] = this.token;
      const path = options.path.startsWith("/") ? options.path : `/${options.path}`;
      const observe = this.#observe;
      const began = observe ? performance.now() : 0;
      const call = this.deliveries.call(
        options.method,
        path,
        headers,
        options.body,
        options.timeoutMs ?? 60_000,
      );
      if (!observe) return call;
      const sent = options.body === undefined ? 0 : Buffer.byteLength(options.body);
      return call.then(
        (response) => {
          observe(
            options.method,
            path,
            response.status,
            performance.now() - began,
            sent,
            response.body.byteLength,
          );
          return response;
        },
        (error: unknown) => {
          observe(options.method, path, 0, performance.now() - began, sent, 0);
          throw error;
        },
      );
    });
  }

  async close(): Promise<void> {
    this.target.close();
    this.deliveries.close();
  }
}

export function formatHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
