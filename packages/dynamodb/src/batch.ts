import { setTimeout as delay } from "node:timers/promises";
import { backoffDelay } from "@outrig/core/kit";

export interface RetryPolicy {
  /** Sends in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<unknown>;
}

/** What AWS recommends for unprocessed batch items: exponential backoff with full jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 25,
  maxDelayMs: 2000,
};

export function backoffMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return backoffDelay(
    { initialMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, jitter: "equal" },
    attempt,
    random,
  );
}

/**
 * Sends a batch and re-sends whatever DynamoDB returned as unprocessed (it does so under
 * throttling, or when a response would be too large), backing off between attempts. Resolves with
 * the items still unprocessed after the last attempt (empty when all went through); a failed
 * request rejects as it is.
 */
export async function sendUntilProcessed<T>(
  items: readonly T[],
  send: (items: readonly T[]) => Promise<readonly T[]>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<readonly T[]> {
  const sleep = policy.sleep ?? delay;
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    pending = await send(pending);
    if (pending.length === 0 || attempt >= policy.maxAttempts) break;
    await sleep(backoffMs(attempt, policy));
  }
  return pending;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
