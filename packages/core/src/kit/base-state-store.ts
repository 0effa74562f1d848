import { decodeStateValue } from "../encoding.ts";
import { BulkError, type BulkItemError, errorMessage } from "../errors.ts";
import { keysLikeEmptyPatternError, normalizeDeletePrefix } from "../keys-like.ts";
import {
  type BulkGetItem,
  type BulkOptions,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type KeysLikeRequest,
  type KeysLikeResponse,
  mapWithParallelism,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  type StateOptions,
  type StateStore,
  type TransactionOperation,
  type TransactionRequest,
  throwBulkFailures,
  toBulkGetItem,
  validateStateOptions,
} from "../state.ts";
import { BaseComponent } from "./base-component.ts";

/**
 * A base for state stores. The public operations are template methods: each checks the store is
 * open, that the operation's capability is declared (ERR_NOT_SUPPORTED otherwise), and that the
 * request is well formed (non-empty keys, Dapr's option values, known transaction operations, a
 * deleteWithPrefix prefix, a keysLike pattern), then calls the protected method a store
 * implements, which sees only valid requests. Bulk operations fan out to the single ones unless
 * a store overrides `getItems`/`setItems`/`deleteItems` to batch; an invalid item of a bulk write
 * fails alone (a `BulkItemError`), an invalid item of a bulk read fails the call.
 */
export abstract class BaseStateStore extends BaseComponent implements StateStore {
  abstract readonly capabilities: ReadonlySet<StateCapability>;
  protected override readonly closedMessage: string = "the store is closed";

  protected abstract getItem(request: GetRequest): Promise<GetResponse>;
  protected abstract setItem(request: SetRequest): Promise<void>;
  protected abstract deleteItem(request: DeleteRequest): Promise<void>;

  /** Reads every request (all valid); default: one `getItem` each, per-item errors reported. */
  protected async getItems(requests: GetRequest[], options?: BulkOptions): Promise<BulkGetItem[]> {
    const results = await mapWithParallelism(requests, options?.parallelism, (r) =>
      this.getItem(r),
    );
    return results.map((r, i) => {
      const key = (requests[i] as GetRequest).key;
      if (r.status === "fulfilled") return toBulkGetItem(key, r.value);
      return { key, data: null, error: errorMessage(r.reason) };
    });
  }

  /** Writes every request (all valid), non-atomically; rejects with a `BulkError` of the failed. */
  protected async setItems(requests: SetRequest[], options?: BulkOptions): Promise<void> {
    await this.#fanOut(requests, options, (r) => this.setItem(r));
  }

  /** As `setItems`, for deletes. */
  protected async deleteItems(requests: DeleteRequest[], options?: BulkOptions): Promise<void> {
    await this.#fanOut(requests, options, (r) => this.deleteItem(r));
  }

  /** TRANSACTIONAL: every operation is valid; apply them in order, all or nothing. */
  protected async transactItems(_request: TransactionRequest): Promise<void> {
    throw this.errors.notSupported("transactions");
  }

  /** QUERY_API. */
  protected async queryItems(_request: QueryRequest): Promise<QueryResponse> {
    throw this.errors.notSupported("query");
  }

  /** DELETE_WITH_PREFIX: `prefix` is normalized (ends with `||`, never empty). */
  protected async deleteItemsWithPrefix(_prefix: string): Promise<{ count: number }> {
    throw this.errors.notSupported("deleteWithPrefix");
  }

  /** KEYS_LIKE: `pattern` is non-empty. */
  protected async keysMatching(_request: KeysLikeRequest): Promise<KeysLikeResponse> {
    throw this.errors.notSupported("keysLike");
  }

  /**
   * Library-mode convenience: the value under `key`, decoded (`decodeStateValue`): a JSON value as
   * the value itself, bytes as a `Uint8Array`, `undefined` when the key is missing. `T` is what
   * the caller stored there; it is not checked.
   */
  async getValue<T = unknown>(request: string | GetRequest): Promise<T | undefined> {
    const response = await this.get(typeof request === "string" ? { key: request } : request);
    return decodeStateValue(response) as T | undefined;
  }

  async get(request: GetRequest): Promise<GetResponse> {
    this.checkOpen();
    this.checkRequest(request);
    return this.getItem(request);
  }

  async set(request: SetRequest): Promise<void> {
    this.checkOpen();
    this.checkRequest(request);
    return this.setItem(request);
  }

  async delete(request: DeleteRequest): Promise<void> {
    this.checkOpen();
    this.checkRequest(request);
    return this.deleteItem(request);
  }

  async bulkGet(requests: GetRequest[], options?: BulkOptions): Promise<BulkGetItem[]> {
    this.checkOpen();
    for (const request of requests) this.checkRequest(request);
    return requests.length === 0 ? [] : this.getItems(requests, options);
  }

  async bulkSet(requests: SetRequest[], options?: BulkOptions): Promise<void> {
    this.checkOpen();
    await this.#bulkWrite(requests, (valid) => this.setItems(valid, options));
  }

  async bulkDelete(requests: DeleteRequest[], options?: BulkOptions): Promise<void> {
    this.checkOpen();
    await this.#bulkWrite(requests, (valid) => this.deleteItems(valid, options));
  }

  async transact(request: TransactionRequest): Promise<void> {
    this.#require("TRANSACTIONAL", "transactions");
    this.checkOpen();
    for (const op of request.operations) this.#checkOperation(op);
    return this.transactItems(request);
  }

  async query(request: QueryRequest): Promise<QueryResponse> {
    this.#require("QUERY_API", "query");
    this.checkOpen();
    return this.queryItems(request);
  }

  async deleteWithPrefix(request: { prefix: string }): Promise<{ count: number }> {
    this.#require("DELETE_WITH_PREFIX", "deleteWithPrefix");
    this.checkOpen();
    return this.deleteItemsWithPrefix(normalizeDeletePrefix(request.prefix));
  }

  async keysLike(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    this.#require("KEYS_LIKE", "keysLike");
    this.checkOpen();
    if (!request.pattern) throw keysLikeEmptyPatternError();
    return this.keysMatching(request);
  }

  /** The rule for one get, set or delete: Dapr's option values, then a non-empty key. */
  protected checkRequest(request: { key: unknown; options?: StateOptions }): void {
    validateStateOptions(request.options, this.componentType);
    if (typeof request.key !== "string" || request.key === "") {
      throw this.errors.invalid("a non-empty key is required");
    }
  }

  #checkOperation(op: TransactionOperation): void {
    if (op.operation !== "upsert" && op.operation !== "delete") {
      throw this.errors.invalid(
        `unknown transaction operation ${JSON.stringify((op as { operation: unknown }).operation)}`,
      );
    }
    this.checkRequest(op.request);
  }

  #require(capability: StateCapability, operation: string): void {
    this.requireCapability(this.capabilities, capability, operation);
  }

  async #fanOut<R extends { key: string }>(
    requests: R[],
    options: BulkOptions | undefined,
    write: (request: R) => Promise<void>,
  ): Promise<void> {
    const results = await mapWithParallelism(requests, options?.parallelism, write);
    throwBulkFailures(
      requests.map((r) => r.key),
      results,
      this.componentType,
    );
  }

  /** Invalid items fail alone, before the valid ones are written; all failures in one BulkError. */
  async #bulkWrite<R extends { key: string; options?: StateOptions }>(
    requests: R[],
    write: (valid: R[]) => Promise<void>,
  ): Promise<void> {
    const failures: BulkItemError[] = [];
    const valid: R[] = [];
    for (const request of requests) {
      try {
        this.checkRequest(request);
        valid.push(request);
      } catch (error) {
        failures.push(this.errors.bulkItem(request.key, error));
      }
    }
    try {
      if (valid.length > 0) await write(valid);
    } catch (error) {
      if (!(error instanceof BulkError) || failures.length === 0) throw error;
      failures.push(...error.errors);
    }
    if (failures.length > 0) throw this.errors.bulk(failures);
  }
}
