import { setTimeout as delay } from "node:timers/promises";

/**
 * The one backoff policy of every retry loop in outrig: the delay starts at `initialMs`, doubles
 * with each failed attempt, and stops growing at `maxMs`, which defaults to ten times
 * `initialMs` (so a consumer configured with only a first delay never waits more than 10x it).
 * `jitter: "equal"` keeps half of each delay and randomises the other half (AWS's "equal jitter"),
 * for clients that must not retry in lockstep against a shared service.
 */
export interface BackoffPolicy {
  /** The delay after the first failure, in ms. */
  initialMs: number;
  /** The longest delay, in ms. Default: 10 x `initialMs`. */
  maxMs?: number;
  /** Default `none`. */
  jitter?: "none" | "equal";
}

/** The cap when a policy names none: ten times the first delay. */
export const DEFAULT_BACKOFF_GROWTH = 10;

/** The delay before retrying after failed attempt number `attempt` (1 for the first failure). */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const max = policy.maxMs ?? policy.initialMs * DEFAULT_BACKOFF_GROWTH;
  // Past 2^30 the cap has long been reached; clamping keeps the arithmetic finite.
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const capped = Math.min(policy.initialMs * 2 ** exponent, max);
  if (policy.jitter !== "equal") return capped;
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/** Waits `ms`; resolves `false` at once when `signal` aborts (before or during the wait). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}

export interface RetryOptions {
  policy: BackoffPolicy;
  /** Attempts in all, the first included; default unlimited (until success or abort). */
  maxAttempts?: number;
  /** Ends the retrying: the last error is thrown. */
  signal?: AbortSignal;
  /** Whether an error is worth another attempt; default: every error is. */
  retryable?: (error: unknown) => boolean;
  /** Called before each wait (for logging). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Runs `fn` until it resolves, backing off between failed attempts as `policy` says. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const last = options.maxAttempts !== undefined && attempt >= options.maxAttempts;
      if (last || options.signal?.aborted || options.retryable?.(error) === false) throw error;
      const wait = backoffDelay(options.policy, attempt);
      options.onRetry?.(error, attempt, wait);
      if (!(await sleep(wait, options.signal))) throw error;
    }
  }
}
