import { ComponentError, getMetadata, type Metadata, parseDuration } from "@outrig/core";

/**
 * A message's expiry from `ttlInSeconds` (an integer > 0) or `ttl` (a Go duration or seconds),
 * as Dapr's pub/sub components read them. Returns epoch milliseconds, or `undefined` for none.
 */
export function messageExpiry(metadata: Metadata | undefined, now: number): number | undefined {
  const seconds = getMetadata(metadata, "ttlInSeconds");
  if (seconds !== undefined && seconds !== "") {
    if (!/^\d+$/.test(seconds.trim()) || Number(seconds) <= 0) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `metadata 'ttlInSeconds' must be an integer greater than zero, got ${JSON.stringify(seconds)}`,
        { component: "pubsub.in-memory" },
      );
    }
    return now + Number(seconds) * 1000;
  }
  const ttl = getMetadata(metadata, "ttl");
  if (ttl !== undefined && ttl !== "") {
    const ms = parseDuration(ttl, "s");
    if (ms === undefined || ms <= 0) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `metadata 'ttl' must be a positive duration such as 30s or a number of seconds, got ${JSON.stringify(ttl)}`,
        { component: "pubsub.in-memory" },
      );
    }
    return now + ms;
  }
  return undefined;
}
