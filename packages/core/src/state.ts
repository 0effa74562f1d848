import type { Component } from "./component.ts";
import { decodeStateValue, type ValueKind } from "./encoding.ts";
import { BulkError, BulkItemError, ComponentError, notSupported } from "./errors.ts";
import type { Metadata } from "./metadata.ts";
import type { Query } from "./query.ts";

/** Capability names as Dapr spells them (they appear in the metadata API). */
export const STATE_CAPABILITIES = [
  "ETAG",
  "TRANSACTIONAL",
  "QUERY_API",
  "TTL",
  "DELETE_WITH_PREFIX",
  "KEYS_LIKE",
  "PARTITION_KEY",
  "ACTOR",
] as const;
export type StateCapability = (typeof STATE_CAPABILITIES)[number];

export type Concurrency = "first-write" | "last-write";
export type Consistency = "strong" | "eventual";

export interface StateOptions {
  /** Default `last-write`. */
  concurrency?: Concurrency;
  /** Default `eventual`. */
  consistency?: Consistency;
}

export interface GetRequest {
  key: string;
  metadata?: Metadata;
  options?: Pick<StateOptions, "consistency">;
}

export interface GetResponse {
  /** The stored bytes (a JSON value's JSON encoding), or `null` when the key is missing or expired. */
  data: Uint8Array | null;
  /**
   * Whether `data` is a JSON value's encoding or opaque bytes, as it was set. Absent when the key
   * is missing, and from stores whose layout does not record it (Redis, PostgreSQL v2 keep both
   * as the same bytes, as Dapr does).
   */
  kind?: ValueKind;
  /** Absent when the key is missing. */
  etag?: string;
  /** e.g. `ttlExpireTime` (RFC 3339) when the item has a TTL. */
  metadata?: Metadata;
  contentType?: string;
}

export interface SetRequest {
  key: string;
  /**
   * A `Uint8Array` is opaque bytes, stored verbatim; anything else is a JSON value, kept as JSON
   * where the store's layout can (Dapr's Go `[]byte` vs any other value). The sidecar passes a
   * JSON body value as JSON, and bytes as bytes unless their content type is `application/json`.
   */
  value: unknown;
  /** Counts only when non-empty. */
  etag?: string;
  /** `ttlInSeconds` (integer; -1 removes the TTL), `contentType`, `partitionKey`, ... */
  metadata?: Metadata;
  options?: StateOptions;
  /** The value's media type, for stores that keep it. */
  contentType?: string;
}

export interface DeleteRequest {
  key: string;
  etag?: string;
  metadata?: Metadata;
  options?: StateOptions;
}

export interface BulkGetItem {
  key: string;
  data: Uint8Array | null;
  /** As in `GetResponse`. */
  kind?: ValueKind;
  etag?: string;
  metadata?: Metadata;
  /** Empty when the item was read (or is simply missing). */
  error: string;
}

export interface BulkOptions {
  /** Maximum concurrent single operations when a store fans out; <= 0 means unlimited. */
  parallelism?: number;
}

export type TransactionOperation =
  | { operation: "upsert"; request: SetRequest }
  | { operation: "delete"; request: DeleteRequest };

export interface TransactionRequest {
  operations: TransactionOperation[];
  metadata?: Metadata;
}

export interface QueryRequest {
  query: Query;
  metadata?: Metadata;
  /**
   * Only keys starting with this text match. Stores apply it with the filter, before sorting
   * and paging, so `page.limit` and tokens count only these keys (the sidecar's app prefix).
   */
  keyPrefix?: string;
}

export interface QueryResultItem {
  key: string;
  data: Uint8Array;
  etag?: string;
  error?: string;
}

export interface QueryResponse {
  results: QueryResultItem[];
  /** Pass back as `page.token` to read the next page; absent on the last page. */
  token?: string;
  metadata?: Metadata;
}

export interface KeysLikeRequest {
  /** SQL LIKE: `%` any run, `_` one character, `\` escapes. */
  pattern: string;
  pageSize?: number;
  continuationToken?: string;
}

export interface KeysLikeResponse {
  keys: string[];
  continuationToken?: string;
}

/**
 * A state store. Every method exists; an operation whose capability is not declared rejects with
 * ERR_NOT_SUPPORTED. ETag failures reject with `ETagError`; non-atomic bulk writes reject with a
 * `BulkError` holding only the failed items.
 */
export interface StateStore extends Component {
  readonly capabilities: ReadonlySet<StateCapability>;
  get(request: GetRequest): Promise<GetResponse>;
  set(request: SetRequest): Promise<void>;
  delete(request: DeleteRequest): Promise<void>;
  bulkGet(requests: GetRequest[], options?: BulkOptions): Promise<BulkGetItem[]>;
  bulkSet(requests: SetRequest[], options?: BulkOptions): Promise<void>;
  bulkDelete(requests: DeleteRequest[], options?: BulkOptions): Promise<void>;
  /** TRANSACTIONAL: operations apply in order, all or nothing. */
  transact(request: TransactionRequest): Promise<void>;
  /** QUERY_API. */
  query(request: QueryRequest): Promise<QueryResponse>;
  /** DELETE_WITH_PREFIX: deletes direct children of `prefix||`. */
  deleteWithPrefix(request: { prefix: string }): Promise<{ count: number }>;
  /** KEYS_LIKE. */
  keysLike(request: KeysLikeRequest): Promise<KeysLikeResponse>;
  /** Largest transaction the store accepts, when it has a limit. */
  readonly maxTransactionSize?: number;
}

/** A read item of a bulk get: the get response under its key, with an empty error. */
export function toBulkGetItem(key: string, response: GetResponse): BulkGetItem {
  return {
    key,
    data: response.data,
    ...(response.kind !== undefined ? { kind: response.kind } : {}),
    ...(response.etag !== undefined ? { etag: response.etag } : {}),
    ...(response.metadata ? { metadata: response.metadata } : {}),
    error: "",
  };
}

/** Rejects option values Dapr rejects, with a message naming the field. */
export function validateStateOptions(options: StateOptions | undefined, component?: string): void {
  if (!options) return;
  const { concurrency, consistency } = options;
  if (concurrency !== undefined && concurrency !== "first-write" && concurrency !== "last-write") {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `options.concurrency must be first-write or last-write, got ${JSON.stringify(concurrency)}`,
      { component },
    );
  }
  if (consistency !== undefined && consistency !== "strong" && consistency !== "eventual") {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `options.consistency must be strong or eventual, got ${JSON.stringify(consistency)}`,
      { component },
    );
  }
}

/** An ETag counts only when present and non-empty. */
export function hasEtag(etag: string | undefined | null): etag is string {
  return typeof etag === "string" && etag.length > 0;
}

/** Runs `fn` over `items` with at most `parallelism` in flight (<= 0: all at once). */
export async function mapWithParallelism<T, R>(
  items: readonly T[],
  parallelism: number | undefined,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const limit = parallelism && parallelism > 0 ? parallelism : items.length;
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await fn(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Collects per-key failures of a non-atomic bulk write into one `BulkError` (or nothing). */
export function throwBulkFailures(
  keys: readonly string[],
  results: readonly PromiseSettledResult<unknown>[],
  component?: string,
): void {
  const failures: BulkItemError[] = [];
  results.forEach((r, i) => {
    if (r.status === "rejected")
      failures.push(new BulkItemError(keys[i] as string, r.reason, { component }));
  });
  if (failures.length > 0) throw new BulkError(failures, { component });
}

/**
 * A base for state stores: bulk operations fan out to single calls (override them to batch), and
 * optional operations reject with ERR_NOT_SUPPORTED until a subclass implements them and declares
 * the capability.
 *
 * @deprecated Extend `BaseStateStore` from `@outrig/core/kit`: it owns the lifecycle and validates
 * requests once.
 */
export abstract class BaseStateStore implements StateStore {
  abstract readonly capabilities: ReadonlySet<StateCapability>;
  /** Used as the prefix of error messages, e.g. `state.redis`. */
  abstract readonly componentType: string;

  abstract get(request: GetRequest): Promise<GetResponse>;
  abstract set(request: SetRequest): Promise<void>;
  abstract delete(request: DeleteRequest): Promise<void>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  /**
   * Library-mode convenience: the value under `key`, decoded (`decodeStateValue`): a JSON value as
   * the value itself, bytes as a `Uint8Array`, `undefined` when the key is missing. `T` is what
   * the caller stored there; it is not checked.
   */
  async getValue<T = unknown>(request: string | GetRequest): Promise<T | undefined> {
    const response = await this.get(typeof request === "string" ? { key: request } : request);
    return decodeStateValue(response) as T | undefined;
  }

  async bulkGet(requests: GetRequest[], options?: BulkOptions): Promise<BulkGetItem[]> {
    const results = await mapWithParallelism(requests, options?.parallelism, (r) => this.get(r));
    return results.map((r, i) => {
      const key = (requests[i] as GetRequest).key;
      if (r.status === "fulfilled") {
        return toBulkGetItem(key, r.value);
      }
      return { key, data: null, error: String((r.reason as Error)?.message ?? r.reason) };
    });
  }

  async bulkSet(requests: SetRequest[], options?: BulkOptions): Promise<void> {
    const results = await mapWithParallelism(requests, options?.parallelism, (r) => this.set(r));
    throwBulkFailures(
      requests.map((r) => r.key),
      results,
      this.componentType,
    );
  }

  async bulkDelete(requests: DeleteRequest[], options?: BulkOptions): Promise<void> {
    const results = await mapWithParallelism(requests, options?.parallelism, (r) => this.delete(r));
    throwBulkFailures(
      requests.map((r) => r.key),
      results,
      this.componentType,
    );
  }

  async transact(_request: TransactionRequest): Promise<void> {
    throw notSupported("transactions", this.componentType);
  }

  async query(_request: QueryRequest): Promise<QueryResponse> {
    throw notSupported("query", this.componentType);
  }

  async deleteWithPrefix(_request: { prefix: string }): Promise<{ count: number }> {
    throw notSupported("deleteWithPrefix", this.componentType);
  }

  async keysLike(_request: KeysLikeRequest): Promise<KeysLikeResponse> {
    throw notSupported("keysLike", this.componentType);
  }
}
