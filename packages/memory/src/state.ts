import {
  type ComponentContext,
  compareJson,
  type DeleteRequest,
  type ETagError,
  encodeStateValue,
  type GetRequest,
  type GetResponse,
  getMetadata,
  hasEtag,
  isDirectChild,
  type KeysLikeRequest,
  type KeysLikeResponse,
  likePatternToRegExp,
  type Metadata,
  matchesFilter,
  type OptionsInput,
  parseFilter,
  parseTtlInSeconds,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  type StateStoreDefinition,
  type TransactionRequest,
  tryDecodeJson,
  ttlExpireTimeMetadata,
  type ValueKind,
  valueAtPath,
} from "@outrig/core";
import { BaseStateStore, componentErrors } from "@outrig/core/kit";
import { stateOptions } from "./state-options.ts";

const COMPONENT_TYPE = "state.in-memory";
const errors = componentErrors(COMPONENT_TYPE);

/** Everything the store implements; ACTOR is added on top when `actorStateStore` is set. */
const IMPLEMENTED: readonly StateCapability[] = [
  "ETAG",
  "TRANSACTIONAL",
  "QUERY_API",
  "TTL",
  "DELETE_WITH_PREFIX",
  "KEYS_LIKE",
];

/** `createMemoryStateStore`'s options: the YAML metadata fields, typed (see `stateOptions`). */
export type MemoryStateStoreMetadata = OptionsInput<typeof stateOptions.fields>;

export interface MemoryStateStoreOptions {
  /** How often expired items are purged, in ms (YAML: `cleanupInterval`); 0 disables it. Default 10 000. */
  cleanupInterval?: number;
  /** Declare ACTOR (Dapr's `actorStateStore` metadata); needs ETAG and TRANSACTIONAL. */
  actorStateStore?: boolean;
  /**
   * Declare only these capabilities; the others reject with ERR_NOT_SUPPORTED. Lets an app be
   * tested in process against the feature set of a smaller backend. Default: all of them.
   */
  capabilities?: Iterable<StateCapability>;
}

/** One stored value; never handed out, so callers cannot mutate it. */
interface StoredItem {
  readonly data: Uint8Array;
  readonly kind: ValueKind;
  readonly etag: string;
  /** Epoch ms; absent when the item has no TTL. */
  readonly expiresAt: number | undefined;
  readonly contentType: string | undefined;
}

/** Reads and writes during one operation; a transaction stages its writes in an overlay. */
interface ItemView {
  read(key: string): StoredItem | undefined;
  write(key: string, item: StoredItem | undefined): void;
}

const copy = (data: Uint8Array): Uint8Array => new Uint8Array(data);

/**
 * The reference state store: every capability, kept in a Map. Operations never yield between
 * reading and writing, so each call (and each transaction) is atomic without locks.
 */
export class MemoryStateStore extends BaseStateStore {
  readonly componentType = COMPONENT_TYPE;
  readonly capabilities: ReadonlySet<StateCapability>;
  readonly #items = new Map<string, StoredItem>();
  /** Every key (expired ones too) in code-unit order; rebuilt lazily after a key comes or goes. */
  #sortedKeys: string[] | undefined;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #version = 0;

  constructor(options: MemoryStateStoreOptions = {}) {
    super();
    const wanted = new Set(options.capabilities ?? IMPLEMENTED);
    const caps = new Set(IMPLEMENTED.filter((c) => wanted.has(c)));
    // ACTOR means "usable as the actor store", which Dapr grants only to transactional ETag stores.
    if (options.actorStateStore && caps.has("ETAG") && caps.has("TRANSACTIONAL")) {
      caps.add("ACTOR");
    }
    this.capabilities = caps;
    const interval = options.cleanupInterval ?? 10_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#purgeExpired(), interval);
      // A forgotten store must not keep the process alive.
      this.#timer.unref();
    }
  }

  /** The expiry rule every read applies; expired items are invisible before the purge removes them. */
  #isExpired(item: StoredItem, now: number): boolean {
    return item.expiresAt !== undefined && item.expiresAt <= now;
  }

  protected override async onClose(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#items.clear();
    this.#sortedKeys = undefined;
  }

  protected async getItem(request: GetRequest): Promise<GetResponse> {
    const item = this.#live(request.key, Date.now());
    if (!item) return { data: null };
    const metadata = ttlExpireTimeMetadata(item.expiresAt);
    return {
      data: copy(item.data),
      kind: item.kind,
      etag: item.etag,
      ...(metadata ? { metadata } : {}),
      ...(item.contentType ? { contentType: item.contentType } : {}),
    };
  }

  protected async setItem(request: SetRequest): Promise<void> {
    this.#applySet(this.#directView(), request, Date.now());
  }

  protected async deleteItem(request: DeleteRequest): Promise<void> {
    this.#applyDelete(this.#directView(), request, Date.now());
  }

  protected override async transactItems(request: TransactionRequest): Promise<void> {
    const now = Date.now();
    const staged = new Map<string, StoredItem | undefined>();
    const overlay: ItemView = {
      read: (key) => (staged.has(key) ? staged.get(key) : this.#live(key, now)),
      write: (key, item) => void staged.set(key, item),
    };
    for (const op of request.operations) {
      // Transaction-level metadata (e.g. partitionKey) applies to every operation.
      const metadata = { ...request.metadata, ...op.request.metadata };
      if (op.operation === "upsert") this.#applySet(overlay, { ...op.request, metadata }, now);
      else this.#applyDelete(overlay, { ...op.request, metadata }, now);
    }
    // Nothing was written until every operation succeeded: all or nothing.
    for (const [key, item] of staged) this.#write(key, item);
  }

  protected override async queryItems(request: QueryRequest): Promise<QueryResponse> {
    const { filter, sort = [], page = {} } = request.query;
    const node = parseFilter(filter);
    const now = Date.now();
    const matches: { key: string; item: StoredItem; doc: unknown }[] = [];
    const { keyPrefix } = request;
    for (const key of this.#sortedLiveKeys(now)) {
      if (keyPrefix && !key.startsWith(keyPrefix)) continue;
      const item = this.#items.get(key) as StoredItem;
      // Opaque bytes have no fields to filter or sort on, even when they happen to parse as JSON.
      if (item.kind !== "json") continue;
      const doc = tryDecodeJson(item.data);
      if (doc === undefined) continue;
      if (matchesFilter(node, doc)) matches.push({ key, item, doc });
    }
    if (sort.length > 0) {
      // Array.prototype.sort is stable, so equal sort values keep ascending key order.
      matches.sort((a, b) => {
        for (const s of sort) {
          const c = compareJson(valueAtPath(a.doc, s.key), valueAtPath(b.doc, s.key));
          if (c !== 0) return s.order === "DESC" ? -c : c;
        }
        return 0;
      });
    }
    const offset = parseOffsetToken(page.token);
    const limit = page.limit && page.limit > 0 ? page.limit : matches.length;
    const slice = matches.slice(offset, offset + limit);
    const next = offset + slice.length;
    return {
      results: slice.map(({ key, item }) => ({ key, data: copy(item.data), etag: item.etag })),
      ...(next < matches.length ? { token: String(next) } : {}),
    };
  }

  protected override async deleteItemsWithPrefix(prefix: string): Promise<{ count: number }> {
    const now = Date.now();
    let count = 0;
    for (const [key, item] of this.#items) {
      if (!isDirectChild(key, prefix)) continue;
      this.#write(key, undefined);
      if (!this.#isExpired(item, now)) count++;
    }
    return { count };
  }

  protected override async keysMatching(request: KeysLikeRequest): Promise<KeysLikeResponse> {
    const pattern = likePatternToRegExp(request.pattern);
    // The token is the last key returned, so pages stay consistent across inserts and deletes.
    const after =
      request.continuationToken !== undefined && request.continuationToken !== ""
        ? Buffer.from(request.continuationToken, "base64url").toString("utf8")
        : undefined;
    const limit = request.pageSize && request.pageSize > 0 ? request.pageSize : Infinity;
    const keys: string[] = [];
    let more = false;
    for (const key of this.#sortedLiveKeys(Date.now(), after)) {
      if (!pattern.test(key)) continue;
      if (keys.length === limit) {
        more = true;
        break;
      }
      keys.push(key);
    }
    const last = keys.at(-1);
    return {
      keys,
      ...(more && last !== undefined
        ? { continuationToken: Buffer.from(last, "utf8").toString("base64url") }
        : {}),
    };
  }

  #applySet(view: ItemView, request: SetRequest, now: number): void {
    const { key } = request;
    const ttl = parseTtlInSeconds(request.metadata);
    if (ttl !== undefined && ttl > 0) this.#require("TTL", "ttlInSeconds");
    const current = view.read(key);
    if (hasEtag(request.etag)) {
      this.#require("ETAG", "etags");
      if (!current || current.etag !== request.etag) throw this.#mismatch(key);
    } else if (request.options?.concurrency === "first-write" && current) {
      throw errors.etag("mismatch", `first-write: key ${JSON.stringify(key)} already exists`);
    }
    const value = encodeStateValue(request.value);
    view.write(key, {
      data: copy(value.data),
      kind: value.kind,
      etag: String(++this.#version),
      expiresAt: ttl !== undefined && ttl > 0 ? now + ttl * 1000 : undefined,
      contentType: request.contentType ?? getMetadata(request.metadata, "contentType"),
    });
  }

  #applyDelete(view: ItemView, request: DeleteRequest, _now: number): void {
    const { key } = request;
    if (hasEtag(request.etag)) {
      this.#require("ETAG", "etags");
      const current = view.read(key);
      if (!current || current.etag !== request.etag) throw this.#mismatch(key);
    }
    view.write(key, undefined);
  }

  #directView(): ItemView {
    const now = Date.now();
    return {
      read: (key) => this.#live(key, now),
      write: (key, item) => this.#write(key, item),
    };
  }

  #live(key: string, now: number): StoredItem | undefined {
    const item = this.#items.get(key);
    if (!item) return undefined;
    if (this.#isExpired(item, now)) {
      this.#write(key, undefined);
      return undefined;
    }
    return item;
  }

  #write(key: string, item: StoredItem | undefined): void {
    if (item) {
      if (!this.#items.has(key)) this.#sortedKeys = undefined;
      this.#items.set(key, item);
    } else if (this.#items.delete(key)) {
      this.#sortedKeys = undefined;
    }
  }

  /**
   * Live keys in code-unit order (the order the keysLike token compares with), starting after
   * `after`. The sorted list is cached, so walking N keys in pages sorts once, not once per page.
   */
  *#sortedLiveKeys(now: number, after?: string): Generator<string> {
    this.#sortedKeys ??= [...this.#items.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keys = this.#sortedKeys;
    let i = after === undefined ? 0 : firstIndexAfter(keys, after);
    for (; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = this.#items.get(key);
      if (item && !this.#isExpired(item, now)) yield key;
    }
  }

  #purgeExpired(): void {
    const now = Date.now();
    for (const [key, item] of this.#items)
      if (this.#isExpired(item, now)) this.#write(key, undefined);
  }

  #mismatch(key: string): ETagError {
    return errors.etag(
      "mismatch",
      `possible etag mismatch for key ${JSON.stringify(key)}: the item was changed or does not exist`,
    );
  }

  #require(capability: StateCapability, operation: string): void {
    this.requireCapability(this.capabilities, capability, operation);
  }
}

/** Index of the first key greater than `after` in an ascending list (binary search). */
function firstIndexAfter(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseOffsetToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  if (!/^\d+$/.test(token)) {
    throw errors.invalid(`invalid query page token ${JSON.stringify(token)}`);
  }
  return Number(token);
}

/**
 * Library mode: creates the store from typed options named as in the YAML
 * (`{ cleanupInterval: "30s" }`); an unknown option is a ConfigError.
 */
export async function createMemoryStateStore(
  options: MemoryStateStoreMetadata = {},
  context?: ComponentContext,
): Promise<MemoryStateStore> {
  return openMemoryStateStore(stateOptions.fromOptions(options), context);
}

/** The sidecar's path: Dapr metadata, unknown keys ignored (daprd passes built-ins). */
export async function openMemoryStateStore(
  metadata: Metadata = {},
  _context?: ComponentContext,
): Promise<MemoryStateStore> {
  const options = stateOptions.parse(metadata);
  return new MemoryStateStore({
    cleanupInterval: options.cleanupInterval,
    actorStateStore: options.actorStateStore,
  });
}

export const stateDefinition: StateStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "state",
  version: "v1",
  status: "stable",
  description: "Keeps state in the process's memory; the reference implementation of the contract.",
  capabilities: [...IMPLEMENTED, "ACTOR"],
  options: stateOptions,
  create: openMemoryStateStore,
};
