import {
  type BulkGetItem,
  type BulkOptions,
  ComponentError,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  getMetadata,
  type KeysLikeRequest,
  type KeysLikeResponse,
  type Metadata,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  type StateStore,
  type TransactionRequest,
} from "@outrig/core";

const SEPARATOR = "||";

/**
 * The prefix Dapr puts before every key of a store, from the component's `keyPrefix` metadata:
 * `appid` (default), `name`, `namespace`, `none`, or any other text used as is.
 */
export function keyPrefixFor(
  componentMetadata: Metadata,
  storeName: string,
  appId: string,
  namespace?: string,
): string {
  const strategy = getMetadata(componentMetadata, "keyPrefix") ?? "appid";
  switch (strategy.toLowerCase()) {
    case "":
    case "appid":
      return appId ? `${appId}${SEPARATOR}` : "";
    case "name":
      return `${storeName}${SEPARATOR}`;
    case "namespace":
      return namespace ? `${namespace}.${appId}${SEPARATOR}` : `${appId}${SEPARATOR}`;
    case "none":
      return "";
    default:
      return `${strategy}${SEPARATOR}`;
  }
}

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "") {
    throw new ComponentError("ERR_INVALID_REQUEST", "a state key is required");
  }
  if (key.includes(SEPARATOR)) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `input key/keyPrefix '${key}' can't contain '${SEPARATOR}'`,
    );
  }
  return key;
}

/**
 * A state store seen through an app's key prefix: callers use plain keys, the component sees
 * prefixed ones, and keys coming back are unprefixed. The same view serves the HTTP API and
 * library mode, so both read and write the same records.
 */
export class PrefixedStateStore implements StateStore {
  readonly #inner: StateStore;
  readonly prefix: string;

  constructor(inner: StateStore, prefix: string) {
    this.#inner = inner;
    this.prefix = prefix;
  }

  get capabilities(): ReadonlySet<StateCapability> {
    return this.#inner.capabilities;
  }
  get maxTransactionSize(): number | undefined {
    return this.#inner.maxTransactionSize;
  }
  /** The component itself, for operations that need raw keys. */
  get component(): StateStore {
    return this.#inner;
  }

  key(key: unknown): string {
    return this.prefix + checkKey(key);
  }
  strip(key: string): string {
    return this.prefix && key.startsWith(this.prefix) ? key.slice(this.prefix.length) : key;
  }

  async get(request: GetRequest): Promise<GetResponse> {
    return this.#inner.get({ ...request, key: this.key(request.key) });
  }
  async set(request: SetRequest): Promise<void> {
    return this.#inner.set({ ...request, key: this.key(request.key) });
  }
  async delete(request: DeleteRequest): Promise<void> {
    return this.#inner.delete({ ...request, key: this.key(request.key) });
  }
  async bulkGet(requests: GetRequest[], options?: BulkOptions): Promise<BulkGetItem[]> {
    const items = await this.#inner.bulkGet(
      requests.map((r) => ({ ...r, key: this.key(r.key) })),
      options,
    );
    return items.map((i) => ({ ...i, key: this.strip(i.key) }));
  }
  async bulkSet(requests: SetRequest[], options?: BulkOptions): Promise<void> {
    const mapped = requests.map((r) => ({ ...r, key: this.key(r.key) }));
    return this.#inner.bulkSet(mapped, options).catch((e: unknown) => {
      throw this.#unprefixBulk(e);
    });
  }
  async bulkDelete(requests: DeleteRequest[], options?: BulkOptions): Promise<void> {
    const mapped = requests.map((r) => ({ ...r, key: this.key(r.key) }));
    return this.#inner.bulkDelete(mapped, options).catch((e: unknown) => {
      throw this.#unprefixBulk(e);
    });
  }
  async transact(request: TransactionRequest): Promise<void> {
    return this.#inner.transact({
      ...request,
      operations: request.operations.map((op) =>
        op.operation === "upsert"
          ? { operation: "upsert", request: { ...op.request, key: this.key(op.request.key) } }
          : { operation: "delete", request: { ...op.request, key: this.key(op.request.key) } },
      ),
    });
  }
  async query(request: QueryRequest): Promise<QueryResponse> {
    const keyPrefix = this.prefix + (request.keyPrefix ?? "");
    const response = await this.#inner.query({
      ...request,
      ...(keyPrefix ? { keyPrefix } : {}),
    });
    // Kept for stores that do not apply keyPrefix: never hand out another app's keys.
    const results = response.results
      .filter((r) => !this.prefix || r.key.startsWith(this.prefix))
      .map((r) => ({ ...r, key: this.strip(r.key) }));
    return { ...response, results };
  }
  async deleteWithPrefix(request: { prefix: string }): Promise<{ count: number }> {
    return this.#inner.deleteWithPrefix({ prefix: this.prefix + request.prefix });
  }
  async keysLike(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    const response = await this.#inner.keysLike({
      ...request,
      pattern: escapeLike(this.prefix) + request.pattern,
    });
    return { ...response, keys: response.keys.map((k) => this.strip(k)) };
  }
  ping(): Promise<void> {
    return this.#inner.ping();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }

  #unprefixBulk(error: unknown): unknown {
    const e = error as { errors?: { key: string }[] };
    if (Array.isArray(e?.errors)) {
      for (const item of e.errors) {
        try {
          (item as { key: string }).key = this.strip(item.key);
        } catch {
          // A readonly key keeps its prefixed form.
        }
      }
    }
    return error;
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}
