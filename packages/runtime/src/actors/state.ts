import { isTruthy, type Metadata, type StateStore, type TransactionOperation } from "@outrig/core";
import { apiError } from "../api/errors.ts";
import type { Runtime } from "../runtime.ts";

/** One operation of an actor state transaction, as a transport decoded it. */
export interface ActorStateOperation {
  operation: unknown;
  key: unknown;
  /** A JSON value (HTTP) or bytes (gRPC's Any value). */
  value?: unknown;
  etag?: unknown;
  metadata?: Metadata;
}

/** The component marked `actorStateStore: "true"`; throws when two are, naming both. */
export function findActorStateStore(
  runtime: Runtime,
): { name: string; store: StateStore } | undefined {
  const marked = runtime.components.filter(
    (c) => c.kind === "state" && isTruthy(c.metadata.actorStateStore ?? ""),
  );
  if (marked.length > 1) {
    throw new Error(
      `detected more than one actor state store: ${marked.map((c) => c.name).join(" and ")} are marked actorStateStore: "true"; mark only one`,
    );
  }
  const found = marked[0];
  if (!found) return undefined;
  const store = found.instance as StateStore;
  if (!store.capabilities.has("TRANSACTIONAL") || !store.capabilities.has("ETAG")) {
    throw new Error(
      `state store ${found.name} (${found.type}) is marked actorStateStore: "true" but does not support transactions and ETags, which actors need`,
    );
  }
  return { name: found.name, store };
}

/**
 * Actor state in the actor state store, under Dapr's key layout `<appId>||<type>||<id>||<key>`
 * (the component's own key, whatever its keyPrefix), so tables written by daprd read back.
 */
export class ActorState {
  readonly #store: StateStore;
  readonly #appId: string;
  readonly #ttlEnabled: boolean;

  constructor(store: StateStore, appId: string, ttlEnabled: boolean) {
    this.#store = store;
    this.#appId = appId;
    this.#ttlEnabled = ttlEnabled;
  }

  #base(type: string, id: string): string {
    return `${this.#appId}||${type}||${id}||`;
  }

  async get(
    type: string,
    id: string,
    key: string,
  ): Promise<{ data: Uint8Array; metadata?: Metadata } | undefined> {
    if (key === "") throw apiError("ACTOR_STATE_GET", { error: "the state key is empty" });
    try {
      const got = await this.#store.get({ key: this.#base(type, id) + key });
      if (!got.data || got.data.byteLength === 0) return undefined;
      return { data: got.data, ...(got.metadata ? { metadata: got.metadata } : {}) };
    } catch (error) {
      throw apiError("ACTOR_STATE_GET", { error: (error as Error).message }, { cause: error });
    }
  }

  async transact(
    type: string,
    id: string,
    operations: readonly ActorStateOperation[],
  ): Promise<void> {
    const fail = (error: string, cause?: unknown) =>
      apiError("ACTOR_STATE_TRANSACTION", { error }, cause === undefined ? {} : { cause });
    const base = this.#base(type, id);
    const ops: TransactionOperation[] = operations.map((op, i) => {
      if (typeof op.key !== "string" || op.key === "") throw fail(`operation ${i}: missing key`);
      const etag = typeof op.etag === "string" && op.etag !== "" ? { etag: op.etag } : {};
      if (op.operation === "upsert") {
        const metadata = op.metadata ?? {};
        // As daprd while ActorStateTTL is a preview feature: the whole transaction is refused.
        if (!this.#ttlEnabled && "ttlInSeconds" in metadata) {
          throw fail('ttlInSeconds is not supported without the "ActorStateTTL" feature enabled');
        }
        return {
          operation: "upsert",
          request: { key: base + op.key, value: op.value ?? null, metadata, ...etag },
        };
      }
      if (op.operation === "delete") {
        return { operation: "delete", request: { key: base + op.key, ...etag } };
      }
      throw fail(`operation type ${String(op.operation)} not supported`);
    });
    if (ops.length === 0) return;
    try {
      await this.#store.transact({ operations: ops });
    } catch (error) {
      throw fail((error as Error).message, error);
    }
  }
}
