import type { StateStore, TransactionOperation } from "@outrig/core";
import {
  decodeEvent,
  encodeEvent,
  type HistoryEvent,
  type Status,
  type TaskFailureDetails,
} from "./history.ts";
import type { InstanceKeys } from "./keys.ts";

/** What the `metadata` key holds: the instance's summary, read without its history. */
export interface InstanceMeta {
  name: string;
  executionId: string;
  status: Status;
  createdAt: number;
  updatedAt: number;
  input?: string | undefined;
  output?: string | undefined;
  customStatus?: string | undefined;
  failure?: TaskFailureDetails | undefined;
  /** Set for a child workflow: where its outcome goes. */
  parent?: { instanceId: string; taskScheduledId: number; name: string } | undefined;
  historyLength: number;
  inboxLength: number;
  /** Bumped on every commit (and kept across continue-as-new, as Dapr's). */
  generation: number;
  /** The scheduler owner id of the sidecar that drives the instance (holds its lease). */
  owner?: string | undefined;
}

export interface StoredInstance {
  id: string;
  meta: InstanceMeta;
  /** The ETag of `metadata`: every commit is conditional on it. */
  etag: string | undefined;
  history: HistoryEvent[];
  inbox: HistoryEvent[];
}

/** One atomic change of an instance. */
export interface Commit {
  meta: InstanceMeta;
  /** The whole history after the commit, and how much of it was there before (kept keys). */
  history: readonly HistoryEvent[];
  keptHistory: number;
  inbox: readonly HistoryEvent[];
  /** How many leading inbox entries are unchanged (kept keys). */
  keptInbox: number;
}

/** A read that another sidecar's commit tore: read again. */
const TORN = Symbol("torn");
/** Reads of one load at most, each torn by a commit in between, before it gives up. */
const MAX_READS = 20;

/**
 * The instance state in the actor state store, one key per history and inbox entry (protobuf,
 * as Dapr stores them) and a JSON `metadata` whose ETag guards every commit: a commit is one
 * transaction (history append, inbox rewrite, metadata), so a sidecar that lost the instance to
 * another writer fails its commit instead of forking the history.
 */
export class InstanceStore {
  readonly #current: () => StateStore;
  readonly #keys: InstanceKeys;

  /** `store` is asked on every use: a hot reload may replace the component. */
  constructor(store: () => StateStore, keys: InstanceKeys) {
    this.#current = store;
    this.#keys = keys;
  }

  get #store(): StateStore {
    return this.#current();
  }

  /**
   * The instance as one commit left it. Its metadata, history and inbox are separate keys read
   * in two steps, and another sidecar may commit in between (rewriting the inbox, say), so the
   * read counts only when the metadata's ETag is the same after it as before: every commit
   * writes the metadata, so an unchanged ETag means no commit came between. A torn read is
   * read again.
   */
  async load(id: string): Promise<StoredInstance | undefined> {
    for (let attempt = 1; ; attempt++) {
      const read = await this.#read(id);
      if (read !== TORN) return read;
      if (attempt >= MAX_READS) {
        throw new Error(`workflow ${id}: its state changed during each of ${MAX_READS} reads`);
      }
    }
  }

  async #read(id: string): Promise<StoredInstance | undefined | typeof TORN> {
    const got = await this.#store.get({ key: this.#keys.metadata(id) });
    if (!got.data) return undefined;
    const meta = JSON.parse(Buffer.from(got.data).toString("utf8")) as InstanceMeta;
    const keys = [
      ...Array.from({ length: meta.historyLength }, (_, i) => this.#keys.history(id, i)),
      ...Array.from({ length: meta.inboxLength }, (_, i) => this.#keys.inbox(id, i)),
    ];
    if (keys.length === 0) return { id, meta, etag: got.etag, history: [], inbox: [] };
    const items = await this.#store.bulkGet(keys.map((key) => ({ key })));
    const after = await this.#store.get({ key: this.#keys.metadata(id) });
    if (after.etag !== got.etag) return TORN;
    const byKey = new Map(items.map((item) => [item.key, item.data]));
    const read = (key: string): HistoryEvent => {
      const data = byKey.get(key);
      if (!data) throw new Error(`workflow ${id}: state key ${key} is missing`);
      return decodeEvent(data);
    };
    return {
      id,
      meta,
      etag: got.etag,
      history: keys.slice(0, meta.historyLength).map(read),
      inbox: keys.slice(meta.historyLength).map(read),
    };
  }

  /** One page of the instance ids, from the store's KEYS_LIKE over the `metadata` keys. */
  async listIds(page: {
    pageSize?: number | undefined;
    continuationToken?: string | undefined;
  }): Promise<{ ids: string[]; continuationToken?: string | undefined }> {
    const got = await this.#store.keysLike({ pattern: this.#keys.metadataLike, ...page });
    return {
      ids: got.keys.map((key) => this.#keys.idOfMetadata(key)),
      continuationToken: got.continuationToken,
    };
  }

  /**
   * Applies `commit` atomically; returns the new ETag. Rejects (ETagError) when another wrote,
   * or, with no `etag`, when the instance exists already.
   */
  async commit(
    id: string,
    etag: string | undefined,
    before: { historyLength: number; inboxLength: number },
    commit: Commit,
  ): Promise<string | undefined> {
    const operations: TransactionOperation[] = [];
    for (let i = commit.keptHistory; i < commit.history.length; i++) {
      operations.push(
        upsert(this.#keys.history(id, i), encodeEvent(commit.history[i] as HistoryEvent)),
      );
    }
    for (let i = commit.history.length; i < before.historyLength; i++) {
      operations.push({ operation: "delete", request: { key: this.#keys.history(id, i) } });
    }
    for (let i = commit.keptInbox; i < commit.inbox.length; i++) {
      operations.push(
        upsert(this.#keys.inbox(id, i), encodeEvent(commit.inbox[i] as HistoryEvent)),
      );
    }
    for (let i = commit.inbox.length; i < before.inboxLength; i++) {
      operations.push({ operation: "delete", request: { key: this.#keys.inbox(id, i) } });
    }
    operations.push({
      operation: "upsert",
      request: {
        key: this.#keys.metadata(id),
        value: commit.meta,
        // Without an ETag this is the instance's creation: first-write makes it insert-only, so
        // two sidecars starting one instance id at once cannot both create it.
        ...(etag ? { etag } : {}),
        options: { concurrency: "first-write" },
      },
    });
    await this.#store.transact({ operations });
    const got = await this.#store.get({ key: this.#keys.metadata(id) });
    return got.etag;
  }

  /** Deletes every key of the instance, in one transaction guarded by `etag`. */
  async purge(id: string, etag: string | undefined, meta: InstanceMeta): Promise<void> {
    const operations: TransactionOperation[] = [];
    for (let i = 0; i < meta.historyLength; i++)
      operations.push({ operation: "delete", request: { key: this.#keys.history(id, i) } });
    for (let i = 0; i < meta.inboxLength; i++)
      operations.push({ operation: "delete", request: { key: this.#keys.inbox(id, i) } });
    operations.push({
      operation: "delete",
      request: { key: this.#keys.metadata(id), ...(etag ? { etag } : {}) },
    });
    await this.#store.transact({ operations });
  }
}

function upsert(key: string, value: Uint8Array): TransactionOperation {
  return { operation: "upsert", request: { key, value } };
}
