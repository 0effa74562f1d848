import { setTimeout as delay } from "node:timers/promises";

/**
 * Polls `probe` (sync or async) every `intervalMs` until it yields a value, and returns it:
 * `undefined`, `null` and `false` mean "not yet". On timeout it throws naming `what` (a function
 * is called only then, so it can describe the state that was still missing), so a failing test
 * says what it waited for rather than only that time ran out. Without `what` the probe's own
 * source stands in.
 */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what?: string | (() => string),
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      const named = typeof what === "function" ? what() : (what ?? String(probe));
      throw new Error(`timed out after ${timeoutMs} ms: ${named}`);
    }
    await delay(intervalMs);
  }
}

/** Polls `check` until it holds, as `waitFor` does (same timeout, naming and interval). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what?: string | (() => string),
  intervalMs = 20,
): Promise<void> {
  await waitFor(check, timeoutMs, what, intervalMs);
}
