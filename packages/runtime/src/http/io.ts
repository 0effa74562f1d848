import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metadata } from "@outrig/core";
import type { ApiError } from "../api/errors.ts";
import { readBodyLimited } from "./limits.ts";

export { field, stringMap } from "../api/json.ts";

export const JSON_TYPE = "application/json";

/** The whole request body, within the request's max-body-size (a 413 was sent past it). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return readBodyLimited(req);
}

export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": JSON_TYPE,
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The Dapr error code each error answer carried, for `dapr_error_code_total`. */
const answeredCodes = new WeakMap<ServerResponse, string>();

/** The error code `res` was answered with by sendError, if it was. */
export function answeredErrorCode(res: ServerResponse): string | undefined {
  return answeredCodes.get(res);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  // Already answered (e.g. 413 from a body read): a second answer would throw.
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  answeredCodes.set(res, error.errorCode);
  sendJson(res, error.status, { errorCode: error.errorCode, message: error.message });
}

export type Query = Record<string, string | string[] | undefined>;

/** First value of a query parameter. */
export function queryValue(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `metadata.<k>=<v>` query parameters as request metadata (first value per key). */
export function queryMetadata(query: Query): Metadata {
  const out: Metadata = {};
  for (const key of Object.keys(query)) {
    if (key.startsWith("metadata.") && key.length > 9) {
      const v = queryValue(query, key);
      if (v !== undefined) out[key.slice(9)] = v;
    }
  }
  return out;
}

/** Response metadata as `metadata.<k>` headers. */
export function metadataHeaders(metadata: Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata) for (const [k, v] of Object.entries(metadata)) out[`metadata.${k}`] = v;
  return out;
}
