/**
 * One error family for every component. Callers branch on `code` (a literal union), never on
 * message text; the sidecar maps codes to HTTP statuses in one table.
 */
export const ERROR_CODES = [
  "ERR_ETAG_MISMATCH",
  "ERR_ETAG_INVALID",
  "ERR_NOT_SUPPORTED",
  "ERR_CONFIG_INVALID",
  "ERR_INVALID_REQUEST",
  "ERR_NOT_FOUND",
  "ERR_UNAVAILABLE",
  "ERR_TIMEOUT",
  "ERR_CLOSED",
  "ERR_BULK",
  "ERR_INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ComponentErrorOptions {
  /** The component type or name the error comes from, e.g. `state.redis`. */
  component?: string;
  cause?: unknown;
  /** Structured detail safe to show to API clients (never secrets). */
  details?: Record<string, unknown>;
}

export class ComponentError extends Error {
  readonly code: ErrorCode;
  readonly component: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ComponentErrorOptions = {}) {
    super(options.component ? `[${options.component}] ${message}` : message, {
      cause: options.cause,
    });
    this.name = "ComponentError";
    this.code = code;
    this.component = options.component;
    this.details = options.details;
  }
}

export type ETagErrorKind = "mismatch" | "invalid";

/** A write or delete whose ETag is stale (`mismatch`) or unparsable (`invalid`). */
export class ETagError extends ComponentError {
  readonly kind: ETagErrorKind;

  constructor(kind: ETagErrorKind, message?: string, options: ComponentErrorOptions = {}) {
    super(
      kind === "mismatch" ? "ERR_ETAG_MISMATCH" : "ERR_ETAG_INVALID",
      message ??
        (kind === "mismatch"
          ? "possible etag mismatch: the item was changed or does not exist"
          : "invalid etag value"),
      options,
    );
    this.name = "ETagError";
    this.kind = kind;
  }
}

/** One failed item of a non-atomic bulk write. */
export class BulkItemError extends ComponentError {
  readonly key: string;

  constructor(key: string, cause: unknown, options: ComponentErrorOptions = {}) {
    const inner = cause instanceof ComponentError ? cause : undefined;
    super(
      inner?.code ?? "ERR_INTERNAL",
      `failed for key ${JSON.stringify(key)}: ${errorMessage(cause)}`,
      {
        ...options,
        cause,
      },
    );
    this.name = "BulkItemError";
    this.key = key;
  }

  /** The ETag error behind this item's failure, if that is what it was. */
  etagError(): ETagError | undefined {
    return this.cause instanceof ETagError ? this.cause : undefined;
  }
}

/**
 * Bulk writes are not atomic: every item is tried, and the ones that failed are reported together.
 * `errors` holds only the failed items.
 */
export class BulkError extends ComponentError {
  readonly errors: readonly BulkItemError[];

  constructor(errors: readonly BulkItemError[], options: ComponentErrorOptions = {}) {
    super(
      "ERR_BULK",
      `${errors.length} bulk item(s) failed: ${errors.map((e) => e.key).join(", ")}`,
      {
        ...options,
        details: { keys: errors.map((e) => e.key) },
      },
    );
    this.name = "BulkError";
    this.errors = errors;
  }
}

export interface ConfigIssue {
  /** The metadata field, as the component documents it. */
  field: string;
  message: string;
}

/** Invalid component metadata; lists every problem at once. */
export class ConfigError extends ComponentError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: ComponentErrorOptions = {}) {
    super(
      "ERR_CONFIG_INVALID",
      `invalid metadata: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`,
      { ...options, details: { issues } },
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function notSupported(operation: string, component?: string): ComponentError {
  return new ComponentError(
    "ERR_NOT_SUPPORTED",
    `${operation} is not supported by this component`,
    {
      component,
    },
  );
}

export function isComponentError(error: unknown, code?: ErrorCode): error is ComponentError {
  return error instanceof ComponentError && (code === undefined || error.code === code);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
