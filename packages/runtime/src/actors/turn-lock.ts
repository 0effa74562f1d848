/** A reentrant call chain went deeper than the type's `maxStackDepth`. */
export class StackDepthError extends Error {
  constructor() {
    super("maximum stack depth exceeded");
    this.name = "StackDepthError";
  }
}

/** One call chain holding or waiting for the lock: its calls share the turn. */
interface Flight {
  /** The chain's reentrancy id; undefined: a call of its own, which nothing can join. */
  readonly id: string | undefined;
  depth: number;
  readonly started: Promise<void>;
  start(): void;
}

function flight(id: string | undefined): Flight {
  let start!: () => void;
  const started = new Promise<void>((resolve) => {
    start = resolve;
  });
  return { id, depth: 1, started, start };
}

/**
 * One actor's turn lock: calls run one at a time in arrival order (methods, timers and
 * reminders alike). With reentrancy, a call carrying the id of a chain already holding (or
 * waiting for) the lock joins that chain's turn, up to `maxStackDepth` calls deep.
 */
export class TurnLock {
  readonly #queue: Flight[] = [];

  /** Chains holding or waiting for the lock. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Waits for the turn; resolves with its release. Rejects with StackDepthError when the chain
   * is too deep, or with the signal's reason when it aborts while waiting (the wait is dropped).
   */
  async acquire(
    reentrancy: { id: string; maxStackDepth: number } | undefined,
    signal?: AbortSignal,
  ): Promise<() => void> {
    signal?.throwIfAborted();
    let mine = reentrancy ? this.#queue.find((f) => f.id === reentrancy.id) : undefined;
    if (mine && reentrancy) {
      if (mine.depth >= reentrancy.maxStackDepth) throw new StackDepthError();
      mine.depth++;
    } else {
      mine = flight(reentrancy?.id);
      this.#queue.push(mine);
      if (this.#queue.length === 1) mine.start();
    }
    const joined = mine;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      joined.depth--;
      if (joined.depth > 0) return;
      const at = this.#queue.indexOf(joined);
      if (at >= 0) this.#queue.splice(at, 1);
      if (at === 0) this.#queue[0]?.start();
    };
    if (signal) {
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        void joined.started.then(() => signal.removeEventListener("abort", onAbort));
      });
      aborted.catch(() => undefined); // a late abort, after the turn began, is nobody's error
      try {
        await Promise.race([joined.started, aborted]);
      } catch (error) {
        release();
        throw error;
      }
    } else {
      await joined.started;
    }
    return release;
  }
}
