import { defineOptions, option } from "@outrig/core";

/**
 * Metadata of `lock.in-memory` (Dapr has no in-memory lock store; this one is ours). Unknown keys
 * are ignored so the sidecar's own fields (`keyPrefix`) pass through.
 */
export const lockOptions = defineOptions("lock.in-memory", {
  cleanupInterval: option.duration({
    description:
      "How often expired locks are purged from memory (an expired lock is free regardless). A bare number means seconds; 0 disables the purge.",
    default: 10_000,
    aliases: ["cleanupIntervalInSeconds"],
    example: "10s",
  }),
});
