import {
  BulkError,
  BulkItemError,
  ComponentError,
  type ComponentErrorOptions,
  ConfigError,
  type ConfigIssue,
  type ErrorCode,
  ETagError,
  type ETagErrorKind,
  notSupported,
} from "../errors.ts";

/** An error's options minus `component`, which the factory fills in. */
export type BoundErrorOptions = Omit<ComponentErrorOptions, "component">;

/**
 * Errors bound to one component type, so a component names itself once instead of passing
 * `{ component }` to every error it raises.
 */
export interface ComponentErrors {
  readonly component: string;
  error(code: ErrorCode, message: string, options?: BoundErrorOptions): ComponentError;
  /** ERR_INVALID_REQUEST: the caller's request is wrong. */
  invalid(message: string, options?: BoundErrorOptions): ComponentError;
  /** ERR_NOT_SUPPORTED for `operation`. */
  notSupported(operation: string): ComponentError;
  etag(kind: ETagErrorKind, message?: string, options?: BoundErrorOptions): ETagError;
  config(issues: readonly ConfigIssue[], options?: BoundErrorOptions): ConfigError;
  /** One failed item of a non-atomic bulk write. */
  bulkItem(key: string, cause: unknown): BulkItemError;
  bulk(errors: readonly BulkItemError[]): BulkError;
}

export function componentErrors(component: string): ComponentErrors {
  return {
    component,
    error: (code, message, options) => new ComponentError(code, message, { ...options, component }),
    invalid: (message, options) =>
      new ComponentError("ERR_INVALID_REQUEST", message, { ...options, component }),
    notSupported: (operation) => notSupported(operation, component),
    etag: (kind, message, options) => new ETagError(kind, message, { ...options, component }),
    config: (issues, options) => new ConfigError(issues, { ...options, component }),
    bulkItem: (key, cause) => new BulkItemError(key, cause, { component }),
    bulk: (errors) => new BulkError(errors, { component }),
  };
}
