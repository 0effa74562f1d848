import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { apiError } from "../api/errors.ts";
import { refuseAndClose } from "./limits.ts";

/** Default connection cap of the HTTP API. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

export interface ConnectionLimits {
  maxConnections: number;
  /** A request's headers must be complete this long after the connection opened or went idle. */
  headersTimeoutMs: number;
  /** A request (headers and body) must be complete this long after its headers. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection may wait this long for its next request. */
  keepAliveTimeoutMs: number;
}

interface State {
  busy: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The connection rules of the API server, enforced by this module's own timers rather than
 * node's periodic connection check (whose list, on the node 24 we run, did not hold sockets
 * with partial headers, so they were never timed out):
 * - at `maxConnections` a new connection first evicts the oldest one that is not serving an
 *   admitted request (idle keep-alive, headers still arriving, refused), and is refused only
 *   when every connection is busy: sockets that never send a valid request (slow-loris, no
 *   token) cannot lock out clients that do, and file descriptors stay bounded;
 * - headers must arrive within `headersTimeoutMs` of the connection opening (or of the last
 *   response on a keep-alive connection, after `keepAliveTimeoutMs` of idleness);
 * - a body must be complete within `requestTimeoutMs`, else 408 and the connection closes.
 */
export class ConnectionGuard {
  readonly limits: ConnectionLimits;
  /** Insertion order is age order: the first entry is the oldest connection. */
  readonly #sockets = new Map<Socket, State>();
  evicted = 0;
  refused = 0;

  constructor(server: Server, limits: ConnectionLimits) {
    this.limits = limits;
    server.on("connection", (socket: Socket) => this.#accept(socket));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => this.#request(req, res));
  }

  get size(): number {
    return this.#sockets.size;
  }

  #arm(state: State, ms: number, onExpiry: () => void): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(onExpiry, ms);
    state.timer.unref();
  }

  #accept(socket: Socket): void {
    if (this.#sockets.size >= this.limits.maxConnections && !this.#evictOne()) {
      this.refused++;
      socket.destroy();
      return;
    }
    const state: State = { busy: 0, timer: undefined };
    this.#sockets.set(socket, state);
    this.#arm(state, this.limits.headersTimeoutMs, () => socket.destroy());
    socket.once("close", () => {
      clearTimeout(state.timer);
      this.#sockets.delete(socket);
    });
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const state = this.#sockets.get(socket);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    if (!req.complete) {
      this.#arm(state, this.limits.requestTimeoutMs, () => {
        if (req.complete) return;
        if (res.headersSent) socket.destroy();
        else {
          const e = apiError("REQUEST_TIMEOUT", { ms: this.limits.requestTimeoutMs });
          refuseAndClose(
            res,
            e.status,
            JSON.stringify({ errorCode: e.errorCode, message: e.message }),
          );
        }
      });
      req.once("end", () => {
        clearTimeout(state.timer);
        state.timer = undefined;
      });
    }
    res.once("finish", () => {
      this.#arm(state, this.limits.keepAliveTimeoutMs + this.limits.headersTimeoutMs, () =>
        socket.destroy(),
      );
    });
  }

  #evictOne(): boolean {
    for (const [socket, state] of this.#sockets) {
      if (state.busy > 0) continue;
      this.#sockets.delete(socket);
      clearTimeout(state.timer);
      socket.destroy();
      this.evicted++;
      return true;
    }
    return false;
  }

  /** Marks the request's connection busy (not evictable) until its response is done. */
  admit(req: IncomingMessage, res: ServerResponse): void {
    const state = this.#sockets.get(req.socket);
    if (!state) return;
    state.busy++;
    res.once("close", () => {
      state.busy--;
    });
  }
}
