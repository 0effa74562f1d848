import type { Logger } from "@outrig/core";

/** Dapr's `--dapr-graceful-shutdown-seconds` default. */
export const DEFAULT_GRACEFUL_SHUTDOWN_SECONDS = 5;

type Step = () => void | Promise<void>;

/**
 * Dapr's graceful shutdown, in this order:
 *   1. `accept`: stop accepting new work (each API server stops listening, idle connections close);
 *   2. `sources`: stop subscriptions and input bindings, so no new delivery starts;
 *   3. wait until every tracked call and delivery has finished, at most `gracefulShutdownSeconds`;
 *   4. `force`: end whatever is still open (connections, streams);
 *   5. `close`: close the app channel and the components.
 * API servers (HTTP, gRPC) add their steps with `on` and wrap each call in `track`/`begin`.
 */
export class Drain {
  readonly #steps: Record<"accept" | "sources" | "force" | "close", Step[]> = {
    accept: [],
    sources: [],
    force: [],
    close: [],
  };
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #running: Promise<void> | undefined;

  readonly gracefulShutdownMs: number;
  readonly logger: Logger;

  constructor(gracefulShutdownMs: number, logger: Logger) {
    this.gracefulShutdownMs = gracefulShutdownMs;
    this.logger = logger;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#running !== undefined;
  }

  on(phase: "accept" | "sources" | "force" | "close", step: Step): void {
    this.#steps[phase].push(step);
  }

  /** Counts one call or delivery in flight; call the returned function once, when it ends. */
  begin(): () => void {
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.#inFlight === 0) for (const r of this.#idle.splice(0)) r();
    };
  }

  async track<T>(fn: () => Promise<T>): Promise<T> {
    const end = this.begin();
    try {
      return await fn();
    } finally {
      end();
    }
  }

  async #phase(phase: "accept" | "sources" | "force" | "close"): Promise<void> {
    await Promise.all(
      this.#steps[phase].map(async (step) => {
        try {
          await step();
        } catch (error) {
          this.logger.warn("shutdown step failed", { phase, error: (error as Error).message });
        }
      }),
    );
  }

  /** Runs the sequence once; later calls get the same promise. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      await this.#phase("accept");
      await this.#phase("sources");
      if (this.#inFlight > 0) {
        this.logger.info("waiting for calls and deliveries in flight", {
          inFlight: this.#inFlight,
          gracefulShutdownSeconds: this.gracefulShutdownMs / 1000,
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => this.#idle.push(r)),
          new Promise<void>((r) => {
            timer = setTimeout(r, this.gracefulShutdownMs);
          }),
        ]);
        clearTimeout(timer);
        if (this.#inFlight > 0) {
          this.logger.warn("graceful shutdown period ended with calls in flight", {
            inFlight: this.#inFlight,
          });
        }
      }
      await this.#phase("force");
      await this.#phase("close");
    })();
    return this.#running;
  }
}
