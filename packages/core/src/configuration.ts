import type { Component } from "./component.ts";
import type { Metadata } from "./metadata.ts";

/** One configuration value as Dapr's Configuration API returns it. */
export interface ConfigurationItem {
  value: string;
  /** The store's version of the value (Redis: after `||`; PostgreSQL: the VERSION column). */
  version: string;
  metadata: Metadata;
}

/** What a subscription's handler receives: the subscription and the keys that changed. */
export interface ConfigurationUpdate {
  /** The id `subscribe` returned. */
  id: string;
  /**
   * The changed keys. A key that was deleted is delivered with an empty value and version where
   * the store can tell (in-memory, Redis); PostgreSQL delivers the row the trigger sent.
   */
  items: Record<string, ConfigurationItem>;
}

/**
 * Called once per change, in the order the store saw the changes; the next call waits until the
 * previous one settled. A rejection is logged by the store and does not end the subscription.
 */
export type ConfigurationHandler = (update: ConfigurationUpdate) => Promise<void>;

/**
 * Dapr's configuration store contract (components-contrib `configuration.Store`): read items,
 * watch keys for changes, stop watching. Writing is not part of it; stores are written by their
 * own tools (redis-cli, SQL) or, for the in-memory store, by the app in library mode.
 */
export interface ConfigurationStore extends Component {
  readonly componentType: string;
  /** The items of `keys` (all items when empty); keys the store does not hold are absent. */
  get(keys: readonly string[], metadata?: Metadata): Promise<Record<string, ConfigurationItem>>;
  /**
   * Starts watching `keys` (every key when empty); resolves with the subscription id once changes
   * are being watched. `metadata` is store-specific, e.g. PostgreSQL's `pgNotifyChannel`.
   */
  subscribe(
    keys: readonly string[],
    metadata: Metadata,
    handler: ConfigurationHandler,
  ): Promise<string>;
  /** Ends a subscription; no handler call starts after it resolves. ERR_NOT_FOUND for an unknown id. */
  unsubscribe(id: string): Promise<void>;
}

export function isConfigurationStore(value: unknown): value is ConfigurationStore {
  const v = value as Partial<ConfigurationStore> | undefined;
  return (
    typeof v?.get === "function" &&
    typeof v.subscribe === "function" &&
    typeof v.unsubscribe === "function"
  );
}

/** Updates a subscription may have waiting for its handler before the oldest is dropped. */
export const DEFAULT_UPDATE_QUEUE_LIMIT = 1000;

/**
 * The delivery side of one subscription, for stores to share: updates are handed to the handler
 * one at a time in the order they were pushed; at most `limit` wait (past it the oldest is
 * dropped and logged, so a stuck handler cannot grow memory without bound); after `stop()` no
 * call starts.
 */
export class UpdateQueue {
  readonly id: string;
  readonly #handler: ConfigurationHandler;
  readonly #limit: number;
  readonly #onError: (message: string, fields: Record<string, unknown>) => void;
  readonly #pending: Record<string, ConfigurationItem>[] = [];
  #running = false;
  #stopped = false;
  #dropped = 0;

  constructor(
    id: string,
    handler: ConfigurationHandler,
    options: {
      limit?: number;
      /** Where handler failures and dropped updates are reported. */
      onError?: (message: string, fields: Record<string, unknown>) => void;
    } = {},
  ) {
    this.id = id;
    this.#handler = handler;
    this.#limit = options.limit ?? DEFAULT_UPDATE_QUEUE_LIMIT;
    this.#onError = options.onError ?? (() => undefined);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  push(items: Record<string, ConfigurationItem>): void {
    if (this.#stopped) return;
    this.#pending.push(items);
    if (this.#pending.length > this.#limit) {
      this.#pending.shift();
      if (this.#dropped++ === 0) {
        this.#onError("configuration updates dropped: the handler is not keeping up", {
          subscription: this.id,
          limit: this.#limit,
        });
      }
    }
    if (!this.#running) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
        if (this.#stopped) return;
        try {
          await this.#handler({ id: this.id, items: next });
        } catch (error) {
          this.#onError("configuration update handler failed", {
            subscription: this.id,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      this.#dropped = 0;
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#pending.length = 0;
  }
}
