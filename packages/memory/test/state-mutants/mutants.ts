import {
  BaseStateStore,
  BulkError,
  BulkItemError,
  type DeleteRequest,
  encodeValue,
  type GetRequest,
  type GetResponse,
  type KeysLikeRequest,
  type KeysLikeResponse,
  parseTtlInSeconds,
  type QueryRequest,
  type QueryResponse,
  type SetRequest,
  type StateCapability,
  type StateStore,
  type TransactionRequest,
} from "@outrig/core";
import { MemoryStateStore, type MemoryStateStoreOptions } from "../../src/state.ts";

/**
 * A store that forwards to the real in-memory store. Bulk operations come from BaseStateStore and
 * fan out to `this.set`/`this.delete`, so a mutant that patches a single operation breaks the bulk
 * form too, as it would in a real component.
 */
class Forwarding extends BaseStateStore {
  readonly componentType = "state.in-memory";
  readonly capabilities: ReadonlySet<StateCapability>;
  protected readonly inner: MemoryStateStore;

  constructor(options: MemoryStateStoreOptions = {}, declared?: Iterable<StateCapability>) {
    super();
    this.inner = new MemoryStateStore({ cleanupInterval: 0, ...options });
    this.capabilities = new Set(declared ?? this.inner.capabilities);
  }

  get(r: GetRequest): Promise<GetResponse> {
    return this.inner.get(r);
  }
  set(r: SetRequest): Promise<void> {
    return this.inner.set(r);
  }
  delete(r: DeleteRequest): Promise<void> {
    return this.inner.delete(r);
  }
  override transact(r: TransactionRequest): Promise<void> {
    return this.inner.transact(r);
  }
  override query(r: QueryRequest): Promise<QueryResponse> {
    return this.inner.query(r);
  }
  override deleteWithPrefix(r: { prefix: string }): Promise<{ count: number }> {
    return this.inner.deleteWithPrefix(r);
  }
  override keysLike(r: KeysLikeRequest): Promise<KeysLikeResponse> {
    return this.inner.keysLike(r);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Optimistic concurrency silently off: etags are dropped before the write. */
class IgnoresEtags extends Forwarding {
  override set(r: SetRequest) {
    return this.inner.set({ ...r, etag: undefined });
  }
  override delete(r: DeleteRequest) {
    return this.inner.delete({ ...r, etag: undefined });
  }
}

/** first-write without an etag behaves like last-write: an upsert instead of insert-if-absent. */
class FirstWriteOverwrites extends Forwarding {
  override set(r: SetRequest) {
    const concurrency = r.etag ? r.options?.concurrency : "last-write";
    return this.inner.set({ ...r, options: { ...r.options, concurrency } });
  }
}

/** Items outlive their TTL on read (as if reads waited for garbage collection). */
class TtlNotFilteredOnRead extends Forwarding {
  readonly #expiredCopies = new Map<string, GetResponse>();
  override async set(r: SetRequest) {
    await this.inner.set(r);
    const ttl = parseTtlInSeconds(r.metadata);
    if (ttl !== undefined && ttl > 0) {
      const etag = (await this.inner.get({ key: r.key })).etag;
      this.#expiredCopies.set(r.key, { data: new Uint8Array(encodeValue(r.value)), etag });
    } else {
      this.#expiredCopies.delete(r.key);
    }
  }
  override async delete(r: DeleteRequest) {
    await this.inner.delete(r);
    this.#expiredCopies.delete(r.key);
  }
  override async get(r: GetRequest) {
    const res = await this.inner.get(r);
    const stale = this.#expiredCopies.get(r.key);
    return res.data === null && stale
      ? { ...stale, data: new Uint8Array(stale.data as Uint8Array) }
      : res;
  }
}

/** Reads report no ttlExpireTime. */
class NoTtlExpireTime extends Forwarding {
  override async get(r: GetRequest) {
    const { metadata: _dropped, ...rest } = await this.inner.get(r);
    return rest;
  }
}

/** Transactions run their deletes first, then their upserts (a batch API grouping by kind). */
class TransactionUnordered extends Forwarding {
  override transact(r: TransactionRequest) {
    const deletes = r.operations.filter((o) => o.operation === "delete");
    const upserts = r.operations.filter((o) => o.operation === "upsert");
    return this.inner.transact({ ...r, operations: [...deletes, ...upserts] });
  }
}

/** bulkSet is all-or-nothing: one bad item fails (and reports) every item. */
class BulkSetAtomic extends Forwarding {
  override async bulkSet(requests: SetRequest[]) {
    try {
      await this.inner.transact({
        operations: requests.map((request) => ({ operation: "upsert", request })),
      });
    } catch (cause) {
      throw new BulkError(requests.map((r) => new BulkItemError(r.key, cause)));
    }
  }
}

/** bulkSet swallows the per-key errors. */
class BulkSetHidesErrors extends Forwarding {
  override async bulkSet(requests: SetRequest[]) {
    await super.bulkSet(requests).catch(() => undefined);
  }
}

/** Declares KEYS_LIKE but the operation was never implemented. */
class DeclaresUnimplementedKeysLike extends Forwarding {
  constructor() {
    const all: StateCapability[] = [
      "ETAG",
      "TRANSACTIONAL",
      "QUERY_API",
      "TTL",
      "DELETE_WITH_PREFIX",
    ];
    super({ capabilities: all }, [...all, "KEYS_LIKE"]);
  }
}

/** Transactions work but TRANSACTIONAL is not declared (and they are not atomic either). */
class UndeclaredTransactionsWork extends Forwarding {
  constructor() {
    super({}, ["ETAG", "QUERY_API", "TTL", "DELETE_WITH_PREFIX", "KEYS_LIKE"]);
  }
  override async transact(r: TransactionRequest) {
    for (const op of r.operations) {
      if (op.operation === "upsert") await this.inner.set(op.request);
      else await this.inner.delete(op.request);
    }
  }
}

/** deleteWithPrefix deletes every descendant, not only direct children. */
class DeleteWithPrefixDescendants extends Forwarding {
  override async deleteWithPrefix(r: { prefix: string }) {
    if (r.prefix === "" || r.prefix === "||") return this.inner.deleteWithPrefix(r);
    const prefix = r.prefix.endsWith("||") ? r.prefix : `${r.prefix}||`;
    const { keys } = await this.inner.keysLike({
      pattern: `${prefix.replace(/[\\%_]/g, "\\$&")}%`,
    });
    await this.inner.bulkDelete(keys.map((key) => ({ key })));
    return { count: keys.length };
  }
}

/** keysLike drops backslashes, so escaped % and _ act as wildcards. */
class KeysLikeIgnoresEscapes extends Forwarding {
  override keysLike(r: KeysLikeRequest) {
    return this.inner.keysLike({ ...r, pattern: r.pattern.replaceAll("\\", "") });
  }
}

/** Reads of missing keys carry an etag. */
class MissingKeyHasEtag extends Forwarding {
  override async get(r: GetRequest) {
    const res = await this.inner.get(r);
    return res.data === null ? { ...res, etag: "0" } : res;
  }
}

/** Reads hand out one shared buffer per key, so a caller's edit changes later reads. */
class SharesReadBuffers extends Forwarding {
  readonly #buffers = new Map<string, Uint8Array>();
  override async get(r: GetRequest) {
    const res = await this.inner.get(r);
    if (res.data === null) return res;
    const cached = this.#buffers.get(r.key);
    if (cached && cached.length === res.data.length) return { ...res, data: cached };
    this.#buffers.set(r.key, res.data);
    return res;
  }
  override async set(r: SetRequest) {
    this.#buffers.delete(r.key);
    await this.inner.set(r);
  }
}

/** Query results come back in reverse key order. */
class QueryUnordered extends Forwarding {
  override async query(r: QueryRequest) {
    const res = await this.inner.query(r);
    return { ...res, results: [...res.results].reverse() };
  }
}

/** ttlInSeconds=-1 (or a set without it) keeps the item's previous TTL instead of removing it. */
class TtlNeverCleared extends Forwarding {
  override async set(r: SetRequest) {
    const ttl = parseTtlInSeconds(r.metadata);
    if (ttl === undefined || ttl < 0) {
      const expires = (await this.inner.get({ key: r.key })).metadata?.ttlExpireTime;
      if (expires) {
        const remaining = Math.max(1, Math.ceil((Date.parse(expires) - Date.now()) / 1000));
        return this.inner.set({
          ...r,
          metadata: { ...r.metadata, ttlInSeconds: String(remaining) },
        });
      }
    }
    return this.inner.set(r);
  }
}

/** keysLike ignores the continuation token, so every page starts from the beginning. */
class KeysLikeIgnoresToken extends Forwarding {
  override keysLike({ continuationToken: _ignored, ...r }: KeysLikeRequest) {
    return this.inner.keysLike(r);
  }
}

/** deleteWithPrefix takes the prefix literally instead of appending `||`. */
class DeleteWithPrefixLiteral extends Forwarding {
  override async deleteWithPrefix(r: { prefix: string }) {
    if (r.prefix === "" || r.prefix === "||") return this.inner.deleteWithPrefix(r);
    const { keys } = await this.inner.keysLike({
      pattern: `${r.prefix.replace(/[\\%_]/g, "\\$&")}%`,
    });
    const children = keys.filter((k) => !k.slice(r.prefix.length).includes("||"));
    await this.inner.bulkDelete(children.map((key) => ({ key })));
    return { count: children.length };
  }
}

/** bulkGet leaves missing keys out instead of returning an empty item for each. */
class BulkGetOmitsMissing extends Forwarding {
  override async bulkGet(requests: GetRequest[]) {
    return (await super.bulkGet(requests)).filter((item) => item.data !== null);
  }
}

/** Each mutant, the bug it stands for, and the suite tests (name fragments) that must catch it. */
export const stateMutants: Record<string, { create: () => StateStore; mustFail: string[] }> = {
  "ignores-etags": {
    create: () => new IgnoresEtags(),
    mustFail: [
      "(17c)",
      "(17e)",
      "(17g)",
      "(17i)",
      "(20)",
      "an etag on a missing key is a mismatch",
    ],
  },
  "first-write-overwrites": {
    create: () => new FirstWriteOverwrites(),
    mustFail: ["(19, etag unset)", '(19, etag "")', "bulkSet is not atomic"],
  },
  "ttl-not-filtered-on-read": {
    create: () => new TtlNotFilteredOnRead(),
    mustFail: ["(22)", "first-write succeeds over an expired item"],
  },
  "no-ttl-expire-time": {
    create: () => new NoTtlExpireTime(),
    mustFail: ["(24a)", "(24b)", "(24c)"],
  },
  "transaction-unordered": {
    create: () => new TransactionUnordered(),
    mustFail: ["(14)"],
  },
  "bulkset-all-or-nothing": {
    create: () => new BulkSetAtomic(),
    mustFail: ["(17e)", "bulkSet is not atomic", "bulkSet rejects an invalid ttlInSeconds per key"],
  },
  "bulkset-hides-errors": {
    create: () => new BulkSetHidesErrors(),
    mustFail: ["(17e)", "bulkSet is not atomic", "bulkSet rejects an invalid ttlInSeconds per key"],
  },
  "declares-unimplemented-keyslike": {
    create: () => new DeclaresUnimplementedKeysLike(),
    mustFail: [
      "an empty pattern rejects",
      "`%` returns all 12",
      "the match matrix",
      "paging: size 6",
    ],
  },
  "undeclared-transactions-work": {
    create: () => new UndeclaredTransactionsWork(),
    mustFail: ["transact rejects with ERR_NOT_SUPPORTED and applies nothing (16)"],
  },
  "delete-with-prefix-deletes-descendants": {
    create: () => new DeleteWithPrefixDescendants(),
    mustFail: ["deletes only its 2 direct children (25)"],
  },
  "keyslike-ignores-escapes": {
    create: () => new KeysLikeIgnoresEscapes(),
    mustFail: ["escapes: \\_ and \\% match themselves"],
  },
  "missing-key-has-etag": {
    create: () => new MissingKeyHasEtag(),
    mustFail: ["get of a missing key returns null data and no etag", "(17h)", "(10b)"],
  },
  "query-unordered": {
    create: () => new QueryUnordered(),
    mustFail: ["(6d)", "sort DESC by product.value"],
  },
  "ttl-never-cleared": {
    create: () => new TtlNeverCleared(),
    mustFail: ["(24b)"],
  },
  "keyslike-ignores-token": {
    create: () => new KeysLikeIgnoresToken(),
    mustFail: ["paging: size 6", "a token survives deletes and inserts"],
  },
  "delete-with-prefix-literal": {
    create: () => new DeleteWithPrefixLiteral(),
    mustFail: ["gets `||` appended and deletes 1 key (25)"],
  },
  "bulkget-omits-missing": {
    create: () => new BulkGetOmitsMissing(),
    mustFail: ["(10b)", "(17j)"],
  },
  "shares-read-buffers": {
    create: () => new SharesReadBuffers(),
    mustFail: ["stored bytes are not shared with the caller's buffers"],
  },
};
