/** Ends one subscription (or read); may be asynchronous. */
export type StopFunction = () => void | Promise<void>;

/**
 * The running subscriptions and reads of one component. Each ends once: when its caller's signal
 * aborts, or when the component closes, whichever comes first. Once closed, a subscription added
 * late (one whose start was still in flight at close) is stopped at once.
 */
export class Subscriptions {
  readonly #stops = new Set<() => Promise<void>>();
  #closed = false;

  /** How many are running. */
  get size(): number {
    return this.#stops.size;
  }

  /** Tracks a started subscription; returns whether it is still running (not closed or aborted). */
  add(stop: StopFunction, signal?: AbortSignal): boolean {
    let stopped = false;
    const run = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      this.#stops.delete(run);
      signal?.removeEventListener("abort", onAbort);
      await stop();
    };
    // An abort has no caller waiting on it: a failing stop there is the stop's own to log.
    const onAbort = (): void => void run().catch(() => undefined);
    if (this.#closed || signal?.aborted) {
      onAbort();
      return false;
    }
    this.#stops.add(run);
    signal?.addEventListener("abort", onAbort, { once: true });
    return true;
  }

  /** Stops every subscription, concurrently; resolves when all have settled. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#stops].map((stop) => stop()));
  }
}
