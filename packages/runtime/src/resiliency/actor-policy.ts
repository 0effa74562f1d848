import type { CircuitBreaker } from "./circuit-breaker.ts";
import type { Breaker, PolicyKind, RetryPolicy } from "./policies.ts";

/** daprd's circuitBreakerCacheSize when the target names none (or 0). */
export const DEFAULT_ACTOR_BREAKER_CACHE_SIZE = 5000;

/** Where an actor type's breaker state lives: per actor id, per type, or both at once. */
export type ActorBreakerScope = "id" | "type" | "both";

/** The compiled `targets.actors.<type>` entry (or Dapr's actor defaults) of one actor type. */
export interface ActorPolicy {
  timeoutMs: number | undefined;
  retry: RetryPolicy | undefined;
  /** The breaker a call to actor `id` goes through; undefined when the type has none. */
  breaker(id: string): Breaker | undefined;
  /** Reports a timeout that fired or a retry about to be made (breakers report their own). */
  activated(policy: PolicyKind): void;
}

/**
 * A map that keeps its `limit` most recently used entries: per-id breakers of an actor type
 * with many ids stay bounded, as daprd's LRU of circuitBreakerCacheSize does. A breaker that
 * falls out starts closed again when its actor is called next.
 */
class Lru<V> {
  readonly #limit: number;
  readonly #entries = new Map<string, V>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  getOrAdd(key: string, make: () => V): V {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      // Maps iterate in insertion order: moving the key to the end marks it most recent.
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return found;
    }
    const made = make();
    this.#entries.set(key, made);
    if (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return made;
  }
}

/**
 * Both breakers of scope `both`: a call goes through only while neither is open, and its outcome
 * counts in both, so either one trips on its own. An open one refuses before the other counts
 * anything (a refusal must not read as an outcome of the other). Calls to one actor come one
 * turn at a time, so the id's half-open breaker refuses nothing more, but for a reentrant call
 * nested in its probe: that refusal counts as a failure of the type's breaker.
 */
function both(type: CircuitBreaker, id: CircuitBreaker): Breaker {
  return {
    execute(op, isFailure) {
      for (const b of [type, id]) if (b.state === "open") return b.execute(op, isFailure);
      return type.execute(() => id.execute(op, isFailure), isFailure);
    },
  };
}

export function actorPolicy(options: {
  type: string;
  timeoutMs: number | undefined;
  retry: RetryPolicy | undefined;
  /** Makes the breaker of the named policy for `target` (a name for its logs). */
  breaker: ((target: string) => CircuitBreaker) | undefined;
  scope: ActorBreakerScope;
  cacheSize: number | undefined;
  activated: ((policy: PolicyKind) => void) | undefined;
}): ActorPolicy | undefined {
  const { type, timeoutMs, retry, scope } = options;
  const make = options.breaker;
  const activated = options.activated ?? (() => {});
  if (!timeoutMs && !retry && !make) return undefined;
  if (!make) return { timeoutMs, retry, breaker: () => undefined, activated };
  let ofType: CircuitBreaker | undefined;
  const typeBreaker = () => {
    ofType ??= make(`actor-${type}`);
    return ofType;
  };
  const ids = new Lru<CircuitBreaker>(options.cacheSize || DEFAULT_ACTOR_BREAKER_CACHE_SIZE);
  const idBreaker = (id: string) => ids.getOrAdd(id, () => make(`actor-${type}-${id}`));
  return {
    timeoutMs,
    retry,
    activated,
    breaker:
      scope === "type"
        ? typeBreaker
        : scope === "id"
          ? idBreaker
          : (id) => both(typeBreaker(), idBreaker(id)),
  };
}
