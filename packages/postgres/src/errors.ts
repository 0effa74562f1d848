import { ComponentError } from "@outrig/core";
import type { ClientConfig } from "pg";

/** SQLSTATE classes and codes that mean "the server cannot serve us right now". */
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "53400"]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);
const UNAVAILABLE_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error",
  "Connection ended unexpectedly",
  "the database system is",
];

/** Maps pg client and server errors onto the ComponentError codes. */
export function toComponentError(error: unknown, component: string): ComponentError {
  if (error instanceof ComponentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const sqlstate = typeof code === "string" ? code : "";
  if (
    NETWORK_CODES.has(sqlstate) ||
    UNAVAILABLE_SQLSTATES.has(sqlstate) ||
    sqlstate.startsWith("08") ||
    UNAVAILABLE_MESSAGES.some((m) => message.includes(m))
  ) {
    return new ComponentError("ERR_UNAVAILABLE", `PostgreSQL is unavailable: ${message}`, {
      component,
      cause: error,
    });
  }
  if (sqlstate === "57014" || message.includes("Query read timeout")) {
    return new ComponentError("ERR_TIMEOUT", `PostgreSQL did not answer in time: ${message}`, {
      component,
      cause: error,
    });
  }
  if (sqlstate === "28P01" || sqlstate === "28000" || sqlstate === "3D000") {
    return new ComponentError("ERR_UNAVAILABLE", `PostgreSQL refused the connection: ${message}`, {
      component,
      cause: error,
    });
  }
  return new ComponentError("ERR_INTERNAL", message, { component, cause: error });
}

/** The server a pg configuration points at, as `host:port` (never the credentials). */
export function serverOf(config: ClientConfig): string {
  if (config.connectionString) {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname || "localhost"}:${url.port || 5432}`;
    } catch {
      // fall through to the defaults
    }
  }
  return `${config.host ?? "localhost"}:${config.port ?? 5432}`;
}

/**
 * A failed first connection: the error mapped as usual, naming the server, and a TLS failure
 * (certificate verification, or a server without TLS) as ERR_UNAVAILABLE saying what to check.
 */
export function connectError(
  error: unknown,
  config: ClientConfig,
  component: string,
): ComponentError {
  if (error instanceof ComponentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const tls =
    (typeof code === "string" &&
      (code.startsWith("ERR_SSL") ||
        code.startsWith("ERR_TLS") ||
        /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code))) ||
    message.includes("does not support SSL");
  const mapped = toComponentError(error, component);
  const reason = tls
    ? `the TLS handshake failed: ${message}${typeof code === "string" ? ` (${code})` : ""} (check sslmode and sslrootcert)`
    : message;
  return new ComponentError(
    tls ? "ERR_UNAVAILABLE" : mapped.code,
    `cannot connect to PostgreSQL at ${serverOf(config)}: ${reason}`,
    { component, cause: error },
  );
}
