import { setTimeout as delay } from "node:timers/promises";

/**
 * Polls `check` (sync or async) every `intervalMs` until it holds. On timeout it throws naming
 * `what` (a function is called only then, so it can describe the state that was still missing),
 * so a failing test says what it waited for rather than only that time ran out. Without `what`
 * the predicate's own source stands in.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what?: string | (() => string),
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline) {
      const named = typeof what === "function" ? what() : (what ?? String(check));
      throw new Error(`timed out after ${timeoutMs} ms: ${named}`);
    }
    await delay(intervalMs);
  }
}
