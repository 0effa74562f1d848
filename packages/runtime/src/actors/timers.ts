import type { Timing } from "./schedule.ts";

/** A timer of one activation: it lives and dies with it, as in Dapr. */
export interface TimerSpec {
  name: string;
  callback: string;
  /** JSON text, or undefined. */
  data: string | undefined;
  dueTime: string;
  period: string;
  timing: Timing;
}

/** The body of `PUT /actors/{type}/{id}/method/timer/{name}`, as daprd sends it. */
export function timerCallbackBody(t: TimerSpec): string {
  return `{"data":${t.data ?? "null"},"callback":${JSON.stringify(t.callback)},"dueTime":${JSON.stringify(t.dueTime)},"period":${JSON.stringify(t.period)}}`;
}

/**
 * Runs one timer: waits for each tick, fires it (the runtime runs it as a turn) and only then
 * arms the next, so a timer never overlaps itself. Ticks missed while a turn ran long are
 * skipped, not fired in a burst.
 */
export class ActorTimer {
  readonly spec: TimerSpec;
  readonly #fire: (spec: TimerSpec) => Promise<void>;
  #handle: NodeJS.Timeout | undefined;
  #fired = 0;
  #stopped = false;

  constructor(spec: TimerSpec, fire: (spec: TimerSpec) => Promise<void>) {
    this.spec = spec;
    this.#fire = fire;
    this.#arm(spec.timing.dueAt);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#handle);
  }

  #arm(at: number): void {
    if (this.#stopped) return;
    const { expiresAt } = this.spec.timing;
    if (expiresAt !== undefined && at > expiresAt) return;
    // Long delays are re-armed in steps: setTimeout holds at most about 24.8 days.
    const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    this.#handle = setTimeout(() => {
      if (Date.now() < at) this.#arm(at);
      else void this.#tick(at);
    }, delay);
    this.#handle.unref();
  }

  async #tick(due: number): Promise<void> {
    if (this.#stopped) return;
    await this.#fire(this.spec);
    this.#fired++;
    const period = this.spec.timing.period;
    if (!period || (period.repeats !== undefined && this.#fired >= period.repeats)) {
      this.#stopped = true;
      return;
    }
    let next = due + period.everyMs;
    const now = Date.now();
    if (next <= now) next = now + period.everyMs - ((now - due) % period.everyMs);
    this.#arm(next);
  }

  get done(): boolean {
    return this.#stopped;
  }
}
