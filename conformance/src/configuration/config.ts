import type { ConfigurationStore, Metadata } from "@outrig/core";

/**
 * How a store delivers changes written faster than its handler runs:
 * - `every`: each change is delivered, in order (the change itself travels with the notification:
 *   in-memory, PostgreSQL's NOTIFY payload);
 * - `latest`: the notification only names the key and the store reads the value when it handles it
 *   (Redis keyspace events), so a burst may be coalesced: the values seen never go back, no value is
 *   invented, and the last one written is delivered.
 */
export type BurstDelivery = "every" | "latest";

export interface ConfigurationConformanceConfig {
  /** Shown in test names, e.g. `redis-7`. */
  name: string;
  /** Creates an initialised store. */
  create: () => Promise<ConfigurationStore>;
  /** Creates or updates `key` the way the store's own tools do (redis-cli SET, SQL, `set`). */
  write: (key: string, value: string, version: string) => Promise<void>;
  /** Deletes `key` the same way. */
  remove: (key: string) => Promise<void>;
  /** Metadata of every subscribe call (e.g. `{ pgNotifyChannel }`). Default none. */
  subscribeMetadata?: Metadata;
  /** See BurstDelivery. */
  burst: BurstDelivery;
  /**
   * Stops the server and starts it again on the same address. When given, the reconnect case
   * checks that a subscription made before the restart sees changes written after it.
   */
  restartServer?: () => Promise<void>;
  /** How long the store may take to subscribe again after a restart. Default 30 s. */
  reconnectTimeoutMs?: number;
  /** How long a change may take to reach the handler. Default 10 s. */
  deliveryTimeoutMs?: number;
  /** How long to watch for a delivery that must not happen. Default 1 s. */
  quietPeriodMs?: number;
}

/** Handed to the case groups: the store under test and unique key names for this run. */
export interface ConfigurationSuiteContext {
  readonly config: ConfigurationConformanceConfig;
  /** The store, once the suite's `beforeAll` created it. */
  store(): ConfigurationStore;
  /** `conf-<runId>-<suffix>`: a key nobody else writes. */
  key(suffix: string): string;
  readonly deliveryTimeoutMs: number;
  readonly quietPeriodMs: number;
  readonly reconnectTimeoutMs: number;
}
