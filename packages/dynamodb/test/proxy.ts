import { createServer, request as httpRequest, type Server } from "node:http";
import { afterAll } from "vitest";

export interface Recorded {
  /** The operation, from the X-Amz-Target header (`GetItem`, `BatchGetItem`, ...). */
  operation: string;
  body: Record<string, unknown>;
}

export interface RecordingProxy {
  endpoint: string;
  requests: Recorded[];
  /** When set, requests for these operations are answered with this DynamoDB error instead of forwarded. */
  fail: { operations: Set<string>; status: number; type: string } | undefined;
  /**
   * The next this-many BatchWriteItem/BatchGetItem calls forward only the first half of their
   * items or keys and hand the rest back as unprocessed, as DynamoDB does when it throttles.
   */
  unprocessOnce: number;
}

type Json = Record<string, unknown>;

/** Splits a batch request in two: what goes upstream, and what comes back unprocessed. */
function splitBatch(operation: string, body: Json): { forward: Json; unprocessed: Json } {
  const items = body.RequestItems as Record<string, unknown>;
  const forward: Record<string, unknown> = {};
  const unprocessed: Record<string, unknown> = {};
  for (const [table, value] of Object.entries(items)) {
    if (operation === "BatchWriteItem") {
      const list = value as unknown[];
      const half = Math.ceil(list.length / 2);
      forward[table] = list.slice(0, half);
      if (list.length > half) unprocessed[table] = list.slice(half);
    } else {
      const spec = value as { Keys: unknown[] };
      const half = Math.ceil(spec.Keys.length / 2);
      forward[table] = { ...spec, Keys: spec.Keys.slice(0, half) };
      if (spec.Keys.length > half) unprocessed[table] = { ...spec, Keys: spec.Keys.slice(half) };
    }
  }
  return { forward: { ...body, RequestItems: forward }, unprocessed };
}

/**
 * A loopback HTTP proxy in front of the real DynamoDB endpoint that records each request's
 * operation and JSON body, and can answer with a DynamoDB error (fault injection, as toxiproxy
 * does for TCP). What it forwards goes to the real service unchanged.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const proxy: RecordingProxy = { endpoint: "", requests: [], fail: undefined, unprocessOnce: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const operation =
        String(req.headers["x-amz-target"] ?? "")
          .split(".")
          .pop() ?? "";
      proxy.requests.push({
        operation,
        body: raw.length > 0 ? JSON.parse(raw.toString("utf8")) : {},
      });
      if (proxy.fail?.operations.has(operation)) {
        res.writeHead(proxy.fail.status, { "content-type": "application/x-amz-json-1.0" });
        res.end(
          JSON.stringify({
            __type: `com.amazonaws.dynamodb.v20120810#${proxy.fail.type}`,
            message: "injected",
          }),
        );
        return;
      }
      let body = raw;
      let unprocessed: Json | undefined;
      if (
        proxy.unprocessOnce > 0 &&
        (operation === "BatchWriteItem" || operation === "BatchGetItem")
      ) {
        proxy.unprocessOnce--;
        const split = splitBatch(operation, JSON.parse(raw.toString("utf8")) as Json);
        body = Buffer.from(JSON.stringify(split.forward));
        unprocessed = split.unprocessed;
      }
      // The emulators do not verify request signatures, so a rewritten body still goes through.
      const headers = { ...req.headers, "content-length": String(body.length) };
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (up) => {
          if (!unprocessed) {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
            return;
          }
          const parts: Buffer[] = [];
          up.on("data", (c: Buffer) => parts.push(c));
          up.on("end", () => {
            const answer = JSON.parse(Buffer.concat(parts).toString("utf8")) as Json;
            answer[operation === "BatchWriteItem" ? "UnprocessedItems" : "UnprocessedKeys"] =
              unprocessed;
            const text = JSON.stringify(answer);
            // The SDK checks x-amz-crc32 against the body, which is no longer upstream's.
            const { "x-amz-crc32": _crc, "content-length": _len, ...rest } = up.headers;
            res.writeHead(up.statusCode ?? 502, {
              ...rest,
              "content-length": Buffer.byteLength(text),
            });
            res.end(text);
          });
        },
      );
      forward.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  proxy.endpoint = `http://127.0.0.1:${port}`;
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return proxy;
}
