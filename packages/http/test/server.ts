import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/**
 * A local HTTP server for the binding's tests. POST/PUT/PATCH store the body under the path, GET
 * returns it (204 when nothing is stored), DELETE removes it. `/status/<n>` answers status n,
 * `/slow/<ms>` answers after ms, `/big/<bytes>` sends that many bytes, `/echo` returns the request
 * headers as JSON. Every request is recorded.
 */
export async function startTestServer(): Promise<{
  url: string;
  requests: RecordedRequest[];
  close: () => Promise<void>;
}> {
  const store = new Map<string, Buffer>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? "/";
      requests.push({ method: req.method ?? "", url, headers: req.headers, body });
      const [, first, arg] = url.split("/");
      if (first === "status") {
        res.writeHead(Number(arg), { "x-test": "status" }).end(`status ${arg}`);
        return;
      }
      if (first === "slow") {
        const timer = setTimeout(() => res.writeHead(200).end("slow"), Number(arg));
        res.on("close", () => clearTimeout(timer));
        return;
      }
      if (first === "big") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(Buffer.alloc(Number(arg), 97));
        return;
      }
      if (first === "echo") {
        res.writeHead(200, { "content-type": "application/json", "x-multi": ["a", "b"] });
        res.end(
          JSON.stringify({ method: req.method, headers: req.headers, body: body.toString() }),
        );
        return;
      }
      switch (req.method) {
        case "POST":
        case "PUT":
        case "PATCH":
          store.set(url, body);
          res.writeHead(201, { location: url }).end();
          return;
        case "GET": {
          const stored = store.get(url);
          if (stored === undefined) res.writeHead(204).end();
          else res.writeHead(200, { "content-type": "application/json" }).end(stored);
          return;
        }
        case "DELETE":
          store.delete(url);
          res.writeHead(204).end();
          return;
        default:
          res.writeHead(200, { allow: "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD" }).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
