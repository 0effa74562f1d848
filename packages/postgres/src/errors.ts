import { ComponentError } from "@outrig/core";

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
