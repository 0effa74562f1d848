import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface AppRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: unknown;
}

type Reply = { status: number; body?: unknown };

/**
 * The suite's app: a plain node:http server that records every request, answers
 * `GET /dapr/subscribe` with the given subscriptions, `OPTIONS` probes with 200, and each route
 * through `reply` (default 200 `{"status":"SUCCESS"}`).
 */
export class TestApp {
  readonly received: AppRequest[] = [];
  #server: Server;
  #waiters = new Set<() => void>();
  port = 0;

  constructor(
    subscriptions: unknown[],
    reply: (r: AppRequest) => Reply | undefined = () => undefined,
  ) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.byteLength;
        // A test app: bodies here are small; anything larger is a suite bug, not a case.
        if (size <= 4 * 1024 * 1024) chunks.push(c);
      });
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        const r: AppRequest = {
          method: req.method ?? "",
          path: (req.url ?? "").split("?")[0] as string,
          headers: req.headers,
          body,
          json,
        };
        let answer: Reply;
        if (r.method === "GET" && r.path === "/dapr/subscribe")
          answer = { status: 200, body: subscriptions };
        else if (r.method === "OPTIONS") answer = { status: 200 };
        else {
          this.received.push(r);
          answer = reply(r) ?? { status: 200, body: { status: "SUCCESS" } };
          for (const wake of this.#waiters) wake();
        }
        const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
        res.writeHead(answer.status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Resolves with the requests that match once there are `count` of them; rejects after `timeoutMs`. */
  async waitFor(
    match: (r: AppRequest) => boolean,
    timeoutMs: number,
    count = 1,
  ): Promise<AppRequest[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(match);
      if (hits.length >= count) return hits;
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(
          `the app received ${hits.length} of ${count} expected requests within ${timeoutMs}ms`,
        );
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 250));
        this.#waiters.add(wake);
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }
}
