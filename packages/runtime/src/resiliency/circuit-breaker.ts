import { ComponentError, type Logger } from "@outrig/core";

/** The counts a `trip` expression sees, by the names Dapr's CEL variables have. */
export interface BreakerCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerSettings {
  /** Requests let through while half-open; 0 means 1 (Dapr's default). */
  maxRequests: number;
  /** While closed, counts reset every `intervalMs`; 0 never resets them. */
  intervalMs: number;
  /** How long the breaker stays open before it lets requests probe again. */
  timeoutMs: number;
  /** Dapr's `trip`: true opens the breaker. */
  trip: (counts: BreakerCounts) => boolean;
}

/**
 * A circuit breaker with the state machine Dapr's (gobreaker's) has: closed counts outcomes and
 * opens when `trip` says so; open refuses at once until `timeoutMs` has passed; half-open lets
 * `maxRequests` through, closing after that many successes and opening again on any failure.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #settings: BreakerSettings;
  readonly #logger: Logger;
  readonly #onStateChange: ((state: BreakerState) => void) | undefined;
  #state: BreakerState = "closed";
  #counts: BreakerCounts = zero();
  /** When the closed interval or the open timeout ends (ms since epoch); 0 = never. */
  #expiry = 0;
  /** Bumped on every state change, so an outcome of an older generation is not counted. */
  #generation = 0;

  /** `onStateChange` hears of every change of state (for the activation metrics). */
  constructor(
    name: string,
    settings: BreakerSettings,
    logger: Logger,
    onStateChange?: (state: BreakerState) => void,
  ) {
    this.name = name;
    this.#settings = { ...settings, maxRequests: settings.maxRequests || 1 };
    this.#logger = logger;
    this.#onStateChange = onStateChange;
    this.#toState("closed", Date.now());
  }

  get state(): BreakerState {
    this.#current(Date.now());
    return this.#state;
  }

  /** Runs `op` through the breaker; `isFailure` says whether an error counts against it. */
  async execute<T>(op: () => Promise<T>, isFailure: (error: unknown) => boolean): Promise<T> {
    const generation = this.#before();
    try {
      const result = await op();
      this.#after(generation, true);
      return result;
    } catch (error) {
      this.#after(generation, !isFailure(error));
      throw error;
    }
  }

  #before(): number {
    const now = Date.now();
    const state = this.#current(now);
    if (state === "open") throw breakerError(this.name, "open");
    if (state === "half-open" && this.#counts.requests >= this.#settings.maxRequests)
      throw breakerError(this.name, "half-open, too many requests");
    this.#counts.requests++;
    return this.#generation;
  }

  #after(generation: number, success: boolean): void {
    const now = Date.now();
    this.#current(now);
    if (generation !== this.#generation) return;
    const c = this.#counts;
    if (success) {
      c.totalSuccesses++;
      c.consecutiveSuccesses++;
      c.consecutiveFailures = 0;
      if (this.#state === "half-open" && c.consecutiveSuccesses >= this.#settings.maxRequests)
        this.#toState("closed", now);
      return;
    }
    c.totalFailures++;
    c.consecutiveFailures++;
    c.consecutiveSuccesses = 0;
    if (this.#state === "half-open" || (this.#state === "closed" && this.#settings.trip(c)))
      this.#toState("open", now);
  }

  /** The state at `now`: an expired interval resets the counts, an expired timeout half-opens. */
  #current(now: number): BreakerState {
    if (this.#expiry !== 0 && this.#expiry <= now) {
      if (this.#state === "closed") this.#newGeneration(now);
      else if (this.#state === "open") this.#toState("half-open", now);
    }
    return this.#state;
  }

  #toState(state: BreakerState, now: number): void {
    const previous = this.#state;
    this.#state = state;
    this.#newGeneration(now);
    if (previous !== state) {
      this.#logger.info("circuit breaker changed state", {
        name: this.name,
        from: previous,
        to: state,
      });
      this.#onStateChange?.(state);
    }
  }

  #newGeneration(now: number): void {
    this.#generation++;
    this.#counts = zero();
    const { intervalMs, timeoutMs } = this.#settings;
    this.#expiry =
      this.#state === "closed"
        ? intervalMs > 0
          ? now + intervalMs
          : 0
        : this.#state === "open"
          ? now + timeoutMs
          : 0;
  }
}

function zero(): BreakerCounts {
  return {
    requests: 0,
    totalSuccesses: 0,
    totalFailures: 0,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
  };
}

/** What a refused call fails with: unavailable, so the API answers as for a down backend. */
function breakerError(name: string, state: string): ComponentError {
  return new ComponentError("ERR_UNAVAILABLE", `circuit breaker ${name} is ${state}`, {
    details: { circuitBreaker: name, state },
  });
}

/** Whether `error` is the breaker refusing a call (never retried: that is its point). */
export function isBreakerRefusal(error: unknown): boolean {
  return (
    error instanceof ComponentError &&
    typeof (error.details as { circuitBreaker?: unknown } | undefined)?.circuitBreaker === "string"
  );
}
