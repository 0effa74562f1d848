import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, type TransformCallback } from "node:stream";
import { apiError } from "../api/errors.ts";

/** Dapr's `--max-body-size` default, 4Mi. */
export const DEFAULT_MAX_BODY_SIZE = 4 * 2 ** 20;

interface Limit {
  res: ServerResponse;
  maxBodySize: number;
}

const limits = new WeakMap<IncomingMessage, Limit>();

/** Thrown by a body read that went past the limit, after the 413 was sent. */
export class BodyTooLargeError extends Error {
  constructor(max: number) {
    super(`the request body is larger than the limit of ${max} bytes (max-body-size)`);
    this.name = "BodyTooLargeError";
  }
}

/** Sets the body limit of one request; `res` is where a 413 goes when a read passes it. */
export function limitBody(req: IncomingMessage, res: ServerResponse, maxBodySize: number): void {
  limits.set(req, { res, maxBodySize });
}

/**
 * Answers `status` and closes the connection once the answer is out, so a body the client is
 * still sending is never read (no keep-alive means node does not drain it).
 */
export function refuseAndClose(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "application/json",
): void {
  if (res.headersSent) return;
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body, () => res.socket?.destroySoon());
}

function refuseTooLarge(limit: Limit): BodyTooLargeError {
  const error = new BodyTooLargeError(limit.maxBodySize);
  const e = apiError("BODY_TOO_LARGE", { detail: error.message });
  refuseAndClose(
    limit.res,
    e.status,
    JSON.stringify({ errorCode: e.errorCode, message: e.message }),
  );
  return error;
}

/** True (and the 413 sent) when the declared content-length is over the limit already. */
export function declaredTooLarge(req: IncomingMessage, res: ServerResponse, max: number): boolean {
  const length = Number(req.headers["content-length"]);
  if (!(length > max)) return false;
  refuseTooLarge({ res, maxBodySize: max });
  return true;
}

/** Reads a whole body, up to the request's limit (413 and a rejection past it). */
export function readBodyLimited(req: IncomingMessage): Promise<Buffer> {
  const limit = limits.get(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (limit && size > limit.maxBodySize) {
        req.off("data", onData);
        req.pause();
        chunks.length = 0;
        reject(refuseTooLarge(limit));
        return;
      }
      chunks.push(c);
    };
    req.on("data", onData);
    req.on("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)),
    );
    req.on("error", reject);
  });
}

/** A pass-through for a streamed (proxied) body that stops it at the request's limit. */
export function bodyLimiter(req: IncomingMessage): Transform {
  const limit = limits.get(req);
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      if (limit && size > limit.maxBodySize) {
        req.unpipe();
        req.pause();
        done(refuseTooLarge(limit));
        return;
      }
      done(null, chunk);
    },
  });
}
