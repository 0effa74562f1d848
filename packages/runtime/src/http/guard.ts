import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type ApiError, apiError } from "../api/errors.ts";

/**
 * The checks every API request passes before any routing: its path is well formed and holds no
 * traversal, and it carries the API token unless it is one of the two health checks.
 */

export interface CheckedPath {
  /** The path as it came (percent-encoded), without the query. */
  path: string;
  /** `?...` or empty. */
  query: string;
}

function malformed(message: string): ApiError {
  return apiError("MALFORMED_REQUEST", { detail: message });
}

/**
 * Refuses a request target that is not an origin-form path, that holds a `.`/`..` segment (also
 * percent-encoded, or hidden behind an encoded `/` or `\`), a NUL, or invalid percent-encoding.
 * Routing and the `dapr-app-id` fallback then see only paths that mean what they say.
 */
export function checkPath(url: string | undefined): CheckedPath | ApiError {
  if (url?.[0] !== "/") return malformed("the request target must be a path");
  const q = url.indexOf("?");
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q) : "";
  if (path.includes("\\")) return malformed("the path must not contain a backslash");
  for (const segment of path.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return malformed(`the path holds invalid percent-encoding: ${segment.slice(0, 64)}`);
    }
    if (decoded.includes("\0")) return malformed("the path must not contain a NUL character");
    for (const part of decoded.split(/[/\\]/)) {
      if (part === "." || part === "..") {
        return malformed("the path must not contain '.' or '..' segments");
      }
    }
  }
  return { path, query };
}

/** Exactly the two checks a load balancer or orchestrator makes without the token, as daprd. */
export function isHealthCheck(method: string | undefined, path: string): boolean {
  return method === "GET" && (path === "/v1.0/healthz" || path === "/v1.0/healthz/outbound");
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Compares a presented token with the expected one in constant time: both are hashed first so
 * the buffers are of equal length and neither the content nor the length leaks through timing.
 */
export function tokenMatches(expected: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== "string") return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The `dapr-api-token` check of one request: may it go on? */
export function tokenAllows(
  req: IncomingMessage,
  path: string,
  apiToken: string | undefined,
): boolean {
  return (
    !apiToken ||
    isHealthCheck(req.method, path) ||
    tokenMatches(apiToken, req.headers["dapr-api-token"])
  );
}
