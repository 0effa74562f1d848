import { ComponentError, ETagError } from "@outrig/core";
import { COMPONENT_TYPE } from "./options.ts";

/** Exception names DynamoDB and the SDK use when the service is overloaded or unreachable. */
const UNAVAILABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "InternalServerError",
  "ServiceUnavailable",
  "TransactionInProgressException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ECONNABORTED",
]);

const AUTH_NAMES = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "AccessDeniedException",
  "ExpiredTokenException",
  "MissingAuthenticationTokenException",
  "CredentialsProviderError",
]);

export function errorName(error: unknown): string {
  return String((error as { name?: unknown } | null)?.name ?? "");
}

function networkCode(error: unknown): string | undefined {
  // Node's socket errors carry `code`; the SDK may wrap them (cause) or surface them as is.
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Maps an SDK failure to the component error family: throttling, 5xx and connection failures are
 * ERR_UNAVAILABLE (retryable), a rejected request ERR_INVALID_REQUEST, bad credentials
 * ERR_CONFIG_INVALID; the SDK error is kept as the cause.
 */
export function mapAwsError(error: unknown, action: string): ComponentError {
  if (error instanceof ComponentError) return error;
  const name = errorName(error);
  const message = (error as Error)?.message ?? String(error);
  const options = { component: COMPONENT_TYPE, cause: error };
  if (name === "ConditionalCheckFailedException")
    return new ETagError("mismatch", undefined, options);
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const code = networkCode(error);
  if (code || UNAVAILABLE_NAMES.has(name) || (status !== undefined && status >= 500)) {
    const why = code
      ? `cannot reach DynamoDB (${code})`
      : `DynamoDB is unavailable or throttling (${name || status})`;
    return new ComponentError("ERR_UNAVAILABLE", `${action}: ${why}: ${message}`, options);
  }
  if (AUTH_NAMES.has(name)) {
    return new ComponentError(
      "ERR_CONFIG_INVALID",
      `${action}: DynamoDB rejected the credentials (${name}): ${message}`,
      options,
    );
  }
  if (name === "ResourceNotFoundException") {
    return new ComponentError("ERR_NOT_FOUND", `${action}: ${message}`, options);
  }
  if (name === "ValidationException" || name === "ItemCollectionSizeLimitExceededException") {
    return new ComponentError(
      "ERR_INVALID_REQUEST",
      `${action}: DynamoDB rejected the request: ${message}`,
      options,
    );
  }
  return new ComponentError(
    "ERR_INTERNAL",
    `${action} failed: ${name ? `${name}: ` : ""}${message}`,
    options,
  );
}
