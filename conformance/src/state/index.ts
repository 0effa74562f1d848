import type { StateStore } from "@outrig/core";

export interface StateConformanceConfig {
  /** Shown in test names, e.g. `redis-7` or `postgresql-custom-table`. */
  name: string;
  /** Creates an initialised store; called once per suite (and again by reconnect tests). */
  create: () => Promise<StateStore>;
  /** An ETag the store parses but that matches nothing (numeric for Redis, etc.). Default `bad-etag`. */
  badEtag?: string;
}

export function describeStateStoreConformance(_config: StateConformanceConfig): void {
  throw new Error("state conformance suite: not written yet");
}
