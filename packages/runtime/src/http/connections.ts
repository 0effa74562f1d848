import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Default connection cap of the HTTP API. */
export const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * Caps the connections of a server. At the cap a new connection first evicts the oldest one
 * that is not serving an admitted request (idle keep-alive, headers still arriving, refused),
 * and is refused only when every connection is busy. So sockets that never send a valid request
 * (slow-loris, no token) cannot lock out clients that do, and file descriptors stay bounded.
 */
export class ConnectionCap {
  readonly max: number;
  /** Insertion order is age order: the first entry is the oldest connection. */
  readonly #sockets = new Map<Socket, { busy: number }>();
  evicted = 0;
  refused = 0;

  constructor(server: Server, max: number) {
    this.max = max;
    server.on("connection", (socket: Socket) => this.#accept(socket));
  }

  get size(): number {
    return this.#sockets.size;
  }

  #accept(socket: Socket): void {
    if (this.#sockets.size >= this.max && !this.#evictOne()) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.#sockets.set(socket, { busy: 0 });
    socket.once("close", () => this.#sockets.delete(socket));
  }

  #evictOne(): boolean {
    for (const [socket, state] of this.#sockets) {
      if (state.busy > 0) continue;
      this.#sockets.delete(socket);
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
