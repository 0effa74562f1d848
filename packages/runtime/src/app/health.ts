import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@outrig/core";

/** daprd's app health check settings (`--enable-app-health-check` and friends). */
export interface AppHealthSettings {
  /** HTTP path probed with GET; default `/healthz`. Unused for gRPC apps. */
  path: string;
  /** Between probes; daprd's `--app-health-probe-interval` (seconds, default 5). */
  intervalMs: number;
  /** A probe that takes longer fails; `--app-health-probe-timeout` (ms, default 500). */
  timeoutMs: number;
  /** Consecutive failures that make the app unhealthy; `--app-health-threshold` (default 3). */
  threshold: number;
}

export const DEFAULT_APP_HEALTH: AppHealthSettings = {
  path: "/healthz",
  intervalMs: 5000,
  timeoutMs: 500,
  threshold: 3,
};

/** One probe: resolves true when the app answered healthy within `timeoutMs`. */
export type HealthProbe = (timeoutMs: number) => Promise<boolean>;

export type AppHealthStatus = "unknown" | "healthy" | "unhealthy";

/**
 * Probes the app every interval, as daprd does: one success makes it healthy, `threshold`
 * failures in a row make it unhealthy, and every change is reported once, in order. The first
 * probe runs at once, so a healthy app gets its deliveries without waiting an interval.
 */
export class AppHealthMonitor {
  readonly settings: AppHealthSettings;
  readonly #probe: HealthProbe;
  readonly #logger: Logger;
  #status: AppHealthStatus = "unknown";
  #failures = 0;

  constructor(probe: HealthProbe, settings: AppHealthSettings, logger: Logger) {
    this.#probe = probe;
    this.settings = settings;
    this.#logger = logger;
  }

  get status(): AppHealthStatus {
    return this.#status;
  }

  /** Probes until `signal` aborts; `onChange` is awaited before the next probe. */
  async run(
    signal: AbortSignal,
    onChange: (status: "healthy" | "unhealthy") => Promise<void>,
  ): Promise<void> {
    while (!signal.aborted) {
      const ok = await this.#probe(this.settings.timeoutMs).catch(() => false);
      if (signal.aborted) return;
      const next = this.#next(ok);
      if (next) {
        this.#status = next;
        if (next === "healthy") this.#logger.info("app health changed: healthy");
        else
          this.#logger.warn("app health changed: unhealthy", {
            failures: this.#failures,
            threshold: this.settings.threshold,
          });
        await onChange(next).catch((error: unknown) =>
          this.#logger.error("applying the app health change failed", {
            status: next,
            error: (error as Error).message,
          }),
        );
      }
      await sleep(this.settings.intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** The status this probe result moves to, when it changes. */
  #next(ok: boolean): "healthy" | "unhealthy" | undefined {
    if (ok) {
      this.#failures = 0;
      return this.#status === "healthy" ? undefined : "healthy";
    }
    this.#failures++;
    return this.#status !== "unhealthy" && this.#failures >= this.settings.threshold
      ? "unhealthy"
      : undefined;
  }
}
