import { setTimeout as delay } from "node:timers/promises";

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? delay(ms) : Promise.resolve();
}

/**
 * Polls until `done()` holds. On timeout it throws with `explain()`, so a failing test says what
 * was still missing rather than only that time ran out.
 */
export async function waitUntil(
  done: () => boolean,
  timeoutMs: number,
  explain: () => string,
  pollMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms: ${explain()}`);
    await delay(pollMs);
  }
}

/** A promise plus its resolver, for handlers the test holds open on purpose. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
