import {
  type BindingDefinition,
  type ComponentContext,
  type ComponentError,
  defineOptions,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Metadata,
  type OptionsInput,
  toBytes,
} from "@outrig/core";
import { BaseOutputBinding, componentErrors } from "@outrig/core/kit";
import pg from "pg";
import { connectionConfig } from "./connection-string.ts";
import { connectError, toComponentError } from "./errors.ts";
import { stateOptions } from "./options.ts";

const COMPONENT = "bindings.postgresql";
const errors = componentErrors(COMPONENT);

// Dapr's binding shares the PostgreSQL connection metadata (`connectionString`, legacy `url`
// alias, `timeout`, pool sizes) with the state store; the table fields are state-only.
const { connectionString, timeout, maxConns, connectionMaxIdleTime } = stateOptions.fields;

export const postgresBindingOptions = defineOptions(COMPONENT, {
  connectionString,
  timeout,
  maxConns,
  connectionMaxIdleTime,
});

/** Dapr's operations for `bindings.postgresql`. */
export const POSTGRES_BINDING_OPERATIONS = ["exec", "query", "close"] as const;

/** SQLSTATE classes a caller causes: data exceptions, integrity violations, syntax and access. */
const CALLER_SQLSTATE_CLASSES = ["22", "23", "42", "2B", "0A"];

/**
 * `bindings.postgresql`: runs one SQL statement per invoke, from the `sql` request metadata with
 * `$1, $2, ...` placeholders bound to the `params` request metadata (a JSON array). Statements
 * always go through the extended protocol, so values are never spliced into SQL text and a
 * request holds exactly one statement.
 * - `exec` returns metadata `rows-affected`;
 * - `query` returns the rows as JSON, each row an array of column values (Dapr's shape);
 * - `close` closes the pool; later invokes reject with ERR_CLOSED.
 * Every response carries Dapr's `operation`, `start-time`, `end-time` and `duration` metadata.
 */
export class PostgresBinding extends BaseOutputBinding {
  readonly componentType = COMPONENT;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    super();
    this.#pool = pool;
  }

  operations(): readonly string[] {
    return POSTGRES_BINDING_OPERATIONS;
  }

  protected override async onPing(): Promise<void> {
    try {
      await this.#pool.query("SELECT 1");
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  protected async invokeOperation(
    operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const start = new Date();
    if (operation === "close") {
      await this.close();
      return { metadata: timing(operation, start) };
    }
    const sql = getMetadata(request.metadata, "sql");
    if (!sql?.trim()) throw invalidRequest(`${operation} needs the "sql" metadata`);
    const values = parseParams(getMetadata(request.metadata, "params"));
    try {
      const result = await this.#pool.query({
        text: sql,
        values,
        rowMode: "array",
        // Extended protocol even without values: one statement per request, never concatenated.
        queryMode: "extended",
      } as pg.QueryArrayConfig);
      if (operation === "exec") {
        return {
          metadata: { ...timing(operation, start), "rows-affected": String(result.rowCount ?? 0) },
        };
      }
      return {
        data: toBytes(JSON.stringify(result.rows, jsonValue)),
        contentType: "application/json",
        metadata: timing(operation, start),
      };
    } catch (error) {
      throw sqlError(error);
    }
  }

  protected override async onClose(): Promise<void> {
    await this.#pool.end();
  }
}

function invalidRequest(message: string, cause?: unknown): ComponentError {
  return errors.error("ERR_INVALID_REQUEST", message, { cause });
}

/** `params`: a JSON array; objects and arrays inside it are passed to pg as JSON text. */
function parseParams(text: string | undefined): unknown[] {
  if (text === undefined || text.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`"params" must be a JSON array: ${(error as Error).message}`, error);
  }
  if (!Array.isArray(parsed)) throw invalidRequest(`"params" must be a JSON array`);
  return parsed.map((v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : v));
}

function sqlError(error: unknown): ComponentError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CALLER_SQLSTATE_CLASSES.includes(code.slice(0, 2))) {
    return errors.error("ERR_INVALID_REQUEST", (error as Error).message, {
      cause: error,
      details: { sqlstate: code },
    });
  }
  const message = (error as Error | null)?.message ?? "";
  if (message.includes("cannot insert multiple commands into a prepared statement")) {
    return invalidRequest(
      "one SQL statement per request (statements are always parameterized)",
      error,
    );
  }
  return toComponentError(error, COMPONENT);
}

/** bigint as a string (JSON has no 64-bit integers), bytea as base64. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value && typeof value === "object" && (value as { type?: string }).type === "Buffer") {
    return Buffer.from((value as { data: number[] }).data).toString("base64");
  }
  return value;
}

function timing(operation: string, start: Date): Metadata {
  const end = new Date();
  return {
    operation,
    "start-time": start.toISOString(),
    "end-time": end.toISOString(),
    duration: `${end.getTime() - start.getTime()}ms`,
  };
}

/** `createPostgresBinding`'s options: the YAML metadata fields, typed; an unknown one is a ConfigError. */
export type PostgresBindingMetadata = OptionsInput<typeof postgresBindingOptions.fields>;

/** Library mode: createPostgresBinding from typed options named as in the YAML. */
export async function createPostgresBinding(
  options: PostgresBindingMetadata,
  context: ComponentContext = {},
): Promise<PostgresBinding> {
  return openPostgresBinding(postgresBindingOptions.fromOptions(options), context);
}

/** Creates a `bindings.postgresql` output binding from Dapr metadata (`connectionString` or `url`). */
export async function openPostgresBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<PostgresBinding> {
  const options = postgresBindingOptions.parse(metadata);
  const connection = connectionConfig(options.connectionString, COMPONENT);
  const pool = new pg.Pool({
    max: options.maxConns,
    idleTimeoutMillis: options.connectionMaxIdleTime,
    connectionTimeoutMillis: options.timeout,
    query_timeout: options.timeout,
    application_name: `outrig ${COMPONENT}${context.name ? ` ${context.name}` : ""}`,
    ...connection,
  });
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw connectError(error, connection, COMPONENT);
  }
  return new PostgresBinding(pool);
}

export const postgresBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "Parameterized SQL against PostgreSQL: exec, query, close",
  capabilities: POSTGRES_BINDING_OPERATIONS,
  directions: ["output"],
  options: postgresBindingOptions,
  create: openPostgresBinding,
};
