import {
  type BulkGetItem,
  type DeleteRequest,
  decodeJson,
  getMetadata,
  type Metadata,
  type Query,
  type SetRequest,
  type StateCapability,
  type StateOptions,
  type TransactionOperation,
  tryDecodeJson,
  validateStateOptions,
} from "@outrig/core";
import type { PrefixedStateStore } from "../components/state-keys.ts";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";
import { field, parseJson } from "./json.ts";

/**
 * Most operations one transaction may carry, whatever the store. Beyond it a request is refused
 * with 400 naming this limit instead of exhausting memory or a store's argument limits; a store's
 * own, lower `maxTransactionSize` still applies.
 */
export const MAX_TRANSACTION_OPERATIONS = 10_000;

// ---- The value contract (one place each; see interop) ----

/**
 * How a saved value reaches the store, as daprd passes it, so each store lays it out as Dapr's
 * component does (jsonb, JSON text, a string attribute) and the query API can match it: a JSON
 * value (an HTTP body's `value`) stays JSON; bytes (gRPC) stay bytes unless the item's metadata
 * says `contentType: application/json`, when they are parsed and kept as JSON (daprd's SaveState
 * does the same); bytes that claim JSON but are not are refused, never stored as something else.
 */
export function storeValue(value: unknown, metadata: Metadata, key: string): unknown {
  if (!(value instanceof Uint8Array)) return value;
  if (getMetadata(metadata, "contentType")?.trim().toLowerCase() !== "application/json") {
    return value;
  }
  try {
    return decodeJson(value);
  } catch (error) {
    throw apiError("MALFORMED_REQUEST", {
      detail: `the value of key ${key} has contentType application/json but is not JSON: ${(error as Error).message}`,
    });
  }
}

/** How stored bytes appear as a JSON value in bulk-get and query answers: JSON, else a string. */
export function dataValue(data: Uint8Array): unknown {
  const decoded = tryDecodeJson(data);
  return decoded === undefined ? Buffer.from(data).toString("utf8") : decoded;
}

// ---- Request types (values arriving from JSON are checked here, whatever their static type) ----

/** Concurrency and consistency as strings (`first-write`, `strong`, ...); validated by core. */
export interface StateOptionsInput {
  concurrency?: unknown;
  consistency?: unknown;
}

/**
 * An ETag as a client sends it: a string, or `{value: string}` (older SDKs, and gRPC's Etag
 * message). `undefined`, `null` and `""` mean none. Anything else is refused, never dropped.
 */
export type EtagInput = unknown;

export interface StateItemInput {
  key: unknown;
  /** A JSON value (kept as JSON) or bytes (kept verbatim unless they say they are JSON). */
  value?: unknown;
  etag?: EtagInput;
  metadata?: Metadata;
  options?: StateOptionsInput | undefined;
}

export interface StateGetRequest {
  store: string | undefined;
  key: unknown;
  metadata?: Metadata;
  consistency?: string | undefined;
}

export interface StateGetResult {
  /** Absent when the key has no value. */
  data?: Uint8Array;
  etag?: string;
  contentType?: string;
  metadata?: Metadata;
}

export interface StateBulkGetRequest {
  store: string | undefined;
  keys: unknown;
  metadata?: Metadata;
  parallelism?: number;
}

export interface StateBulkGetItem {
  key: string;
  data?: Uint8Array;
  etag?: string;
  metadata?: Metadata;
  error?: string;
}

export interface StateSaveRequest {
  store: string | undefined;
  items: readonly StateItemInput[];
  /** Request-level metadata (HTTP query); it overrides each item's. */
  metadata?: Metadata;
}

export interface StateDeleteRequest extends StateItemInput {
  store: string | undefined;
}

export interface StateBulkDeleteRequest {
  store: string | undefined;
  items: readonly StateItemInput[];
  metadata?: Metadata;
}

export interface StateTransactionRequest {
  store: string | undefined;
  operations: readonly { operation: unknown; request: StateItemInput }[];
  /** Applies to every operation; each operation's own metadata overrides it. */
  metadata?: Metadata;
}

export interface StateQueryRequest {
  store: string | undefined;
  /**
   * The query document `{filter, sort, page}`, decoded, or its JSON text (gRPC's
   * `QueryStateRequest.query`), which is parsed here under the API's JSON limits.
   */
  query: unknown;
  metadata?: Metadata;
}

export interface StateQueryResult {
  results: { key: string; data: Uint8Array; etag?: string; error?: string }[];
  token?: string;
  metadata?: Metadata;
}

// ---- Rules ----

/**
 * The app's view of state store `name`, or the error Dapr answers. Transports may call it before
 * reading a body, so an unknown store is reported first, as Dapr does.
 */
export function requireStateStore(
  ctx: ApiContext,
  name: string | undefined,
  capability?: StateCapability,
): PrefixedStateStore {
  if (ctx.runtime.names("state").length === 0) throw apiError("STATE_STORE_NOT_CONFIGURED");
  if (!name || !ctx.runtime.has("state", name)) {
    throw apiError("STATE_STORE_NOT_FOUND", { store: name ?? "" });
  }
  const store = ctx.runtime.stateStore(name);
  if (capability === "TRANSACTIONAL" && !store.capabilities.has(capability)) {
    throw apiError("STATE_TRANSACTIONS_NOT_SUPPORTED", { store: name });
  }
  if (capability === "QUERY_API" && !store.capabilities.has(capability)) {
    throw apiError("STATE_QUERY_NOT_SUPPORTED", { store: name });
  }
  return store;
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "") {
    throw apiError("STATE_ILLEGAL_KEY", { detail: "a state key is required" });
  }
  if (key.includes("||")) {
    throw apiError("STATE_ILLEGAL_KEY", {
      detail: `input key/keyPrefix '${key}' can't contain '||'`,
    });
  }
  return key;
}

/** The ETag of `key`, or none; a number or any other non-string is refused (no lost update). */
function etagOf(value: EtagInput, key: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "object" && !Array.isArray(value)) {
    const inner = field(value, "value");
    if (inner === undefined || inner === null || inner === "") return undefined;
    if (typeof inner === "string") return inner;
  }
  throw apiError("MALFORMED_BODY", {
    detail: `the etag of key ${JSON.stringify(key)} must be a string, got ${describe(value)}`,
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function stateOptions(value: StateOptionsInput | undefined): StateOptions | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { concurrency, consistency } = value;
  const out: StateOptions = {};
  if (typeof concurrency === "string" && concurrency)
    out.concurrency = concurrency as StateOptions["concurrency"];
  if (typeof consistency === "string" && consistency)
    out.consistency = consistency as StateOptions["consistency"];
  return out;
}

interface BaseRequest {
  key: string;
  metadata: Metadata;
  etag?: string;
  options?: StateOptions;
}

function baseRequest(item: StateItemInput, metadata: Metadata): BaseRequest {
  const key = checkKey(item.key);
  const etag = etagOf(item.etag, key);
  const options = stateOptions(item.options);
  return {
    key,
    metadata,
    ...(etag ? { etag } : {}),
    ...(options ? { options } : {}),
  };
}

function setRequest(item: StateItemInput, metadata: Metadata): SetRequest {
  const base = baseRequest(item, metadata);
  return { ...base, value: storeValue(item.value, metadata, base.key) };
}

// ---- Operations ----

export async function stateGet(ctx: ApiContext, request: StateGetRequest): Promise<StateGetResult> {
  const store = requireStateStore(ctx, request.store);
  const key = checkKey(request.key);
  try {
    const got = await store.get({
      key,
      metadata: request.metadata ?? {},
      ...(request.consistency
        ? { options: { consistency: request.consistency as "strong" | "eventual" } }
        : {}),
    });
    if (got.data === null || got.data === undefined) return {};
    return {
      data: got.data,
      ...(got.etag ? { etag: got.etag } : {}),
      ...(got.contentType ? { contentType: got.contentType } : {}),
      ...(got.metadata ? { metadata: got.metadata } : {}),
    };
  } catch (error) {
    throw fromComponentError("stateGet", error, { key, store: request.store });
  }
}

export async function stateBulkGet(
  ctx: ApiContext,
  request: StateBulkGetRequest,
): Promise<StateBulkGetItem[]> {
  const store = requireStateStore(ctx, request.store);
  const { keys } = request;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    throw apiError("MALFORMED_BODY", { detail: "keys must be an array of strings" });
  }
  for (const k of keys) checkKey(k);
  const metadata = request.metadata ?? {};
  let items: BulkGetItem[];
  try {
    items = await store.bulkGet(
      (keys as string[]).map((key) => ({ key, metadata })),
      { parallelism: request.parallelism ?? 0 },
    );
  } catch (error) {
    throw fromComponentError("stateBulkGet", error, { store: request.store });
  }
  const byKey = new Map(items.map((i) => [i.key, i]));
  return (keys as string[]).map((key) => {
    const item = byKey.get(key);
    if (!item) return { key };
    const out: StateBulkGetItem = { key };
    if (item.data) out.data = item.data;
    if (item.etag) out.etag = item.etag;
    if (item.metadata && Object.keys(item.metadata).length > 0) out.metadata = item.metadata;
    if (item.error) out.error = item.error;
    return out;
  });
}

export async function stateSave(ctx: ApiContext, request: StateSaveRequest): Promise<void> {
  const store = requireStateStore(ctx, request.store);
  const requests = request.items.map((item) =>
    setRequest(item, { ...item.metadata, ...request.metadata }),
  );
  try {
    for (const r of requests) validateStateOptions(r.options);
    if (requests.length === 1) await store.set(requests[0] as SetRequest);
    else if (requests.length > 1) await store.bulkSet(requests);
  } catch (error) {
    throw fromComponentError("stateSave", error, { store: request.store });
  }
}

export async function stateDelete(ctx: ApiContext, request: StateDeleteRequest): Promise<void> {
  const store = requireStateStore(ctx, request.store);
  const r: DeleteRequest = baseRequest(request, request.metadata ?? {});
  try {
    validateStateOptions(r.options);
    await store.delete(r);
  } catch (error) {
    throw fromComponentError("stateDelete", error, { key: r.key });
  }
}

export async function stateBulkDelete(
  ctx: ApiContext,
  request: StateBulkDeleteRequest,
): Promise<void> {
  const store = requireStateStore(ctx, request.store);
  const requests = request.items.map((item) =>
    baseRequest(item, { ...item.metadata, ...request.metadata }),
  );
  try {
    for (const r of requests) validateStateOptions(r.options);
    if (requests.length === 1) await store.delete(requests[0] as DeleteRequest);
    else if (requests.length > 1) await store.bulkDelete(requests);
  } catch (error) {
    throw fromComponentError("stateDelete", error, {
      key: requests.map((r) => r.key).join(", "),
    });
  }
}

export async function stateTransaction(
  ctx: ApiContext,
  request: StateTransactionRequest,
): Promise<void> {
  const store = requireStateStore(ctx, request.store, "TRANSACTIONAL");
  const count = request.operations.length;
  const max = store.maxTransactionSize;
  if (max !== undefined && count > max) {
    throw apiError(
      "STATE_TOO_MANY_TRANSACTIONS",
      { count, limit: `the store accepts at most ${max}` },
      { metadata: { currentOpsTransaction: String(count), maxOpsPerTransaction: String(max) } },
    );
  }
  if (count > MAX_TRANSACTION_OPERATIONS) {
    throw apiError(
      "STATE_TOO_MANY_TRANSACTIONS",
      {
        count,
        limit: `more than the sidecar accepts (MAX_TRANSACTION_OPERATIONS = ${MAX_TRANSACTION_OPERATIONS})`,
      },
      {
        metadata: {
          currentOpsTransaction: String(count),
          maxOpsPerTransaction: String(MAX_TRANSACTION_OPERATIONS),
        },
      },
    );
  }
  const shared = request.metadata ?? {};
  const ops: TransactionOperation[] = request.operations.map(({ operation, request: item }) => {
    if (operation !== "upsert" && operation !== "delete") {
      throw apiError("STATE_NOT_SUPPORTED_OPERATION", { operation: String(operation) });
    }
    const metadata = { ...shared, ...item.metadata };
    return operation === "upsert"
      ? { operation, request: setRequest(item, metadata) }
      : { operation, request: baseRequest(item, metadata) };
  });
  for (const op of ops) {
    try {
      validateStateOptions(op.request.options);
    } catch (error) {
      throw fromComponentError("stateTransaction", error, {});
    }
  }
  const outbox =
    ctx.outbox?.enabled(request.store as string) === true
      ? ctx.outbox.prepare(request.store as string, ops)
      : { operations: ops, keys: [] };
  try {
    await store.transact({ operations: outbox.operations, metadata: shared });
  } catch (error) {
    throw fromComponentError("stateTransaction", error, {});
  }
  await ctx.outbox?.committed(request.store as string, outbox.keys);
}

/**
 * The query document's sort and page, checked as Dapr's decoder types them (sort keys strings,
 * order ASC or DESC, limit a non-negative integer, token a string), so a wrong type is a 400
 * naming the field rather than a store failure. The filter is checked by core's parseFilter.
 */
function queryOf(q: unknown, store: string | undefined): Query {
  const invalid = (detail: string) =>
    apiError("STATE_QUERY_INVALID", { store, error: `invalid query: ${detail}` });
  if (q === null || typeof q !== "object" || Array.isArray(q)) {
    throw invalid("the query must be a JSON object");
  }
  const sort = field(q, "sort");
  const page = field(q, "page");
  const out: Query = { filter: field(q, "filter") as Query["filter"] };
  if (sort !== undefined && sort !== null) {
    if (!Array.isArray(sort)) throw invalid("sort must be an array");
    out.sort = sort.map((s, i) => {
      const key = field(s, "key");
      const order = field(s, "order");
      if (typeof key !== "string" || key === "") {
        throw invalid(`sort[${i}].key must be a non-empty string, got ${describe(key)}`);
      }
      if (order !== undefined && order !== null && order !== "ASC" && order !== "DESC") {
        throw invalid(`sort[${i}].order must be ASC or DESC, got ${describe(order)}`);
      }
      return typeof order === "string" ? { key, order } : { key };
    });
  }
  if (page !== undefined && page !== null) {
    if (typeof page !== "object" || Array.isArray(page)) throw invalid("page must be an object");
    const limit = field(page, "limit");
    const token = field(page, "token");
    if (
      limit !== undefined &&
      limit !== null &&
      !(Number.isInteger(limit) && (limit as number) >= 0)
    ) {
      throw invalid(`page.limit must be a non-negative integer, got ${describe(limit)}`);
    }
    if (token !== undefined && token !== null && typeof token !== "string") {
      throw invalid(`page.token must be a string, got ${describe(token)}`);
    }
    out.page = {
      ...(typeof limit === "number" ? { limit } : {}),
      ...(typeof token === "string" ? { token } : {}),
    };
  }
  return out;
}

export async function stateQuery(
  ctx: ApiContext,
  request: StateQueryRequest,
): Promise<StateQueryResult> {
  const store = requireStateStore(ctx, request.store, "QUERY_API");
  let document = request.query;
  if (typeof document === "string" || document instanceof Uint8Array) {
    try {
      document = parseJson(typeof document === "string" ? Buffer.from(document, "utf8") : document);
    } catch (error) {
      throw apiError("MALFORMED_REQUEST", {
        detail: `failed parsing the query: ${(error as Error).message}`,
      });
    }
  }
  const query = queryOf(document, request.store);
  try {
    const result = await store.query({ query, metadata: request.metadata ?? {} });
    return {
      results: result.results.map((r) => ({
        key: r.key,
        data: r.data,
        ...(r.etag ? { etag: r.etag } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      ...(result.token ? { token: result.token } : {}),
      ...(result.metadata ? { metadata: result.metadata } : {}),
    };
  } catch (error) {
    throw fromComponentError("stateQuery", error, { store: request.store });
  }
}
