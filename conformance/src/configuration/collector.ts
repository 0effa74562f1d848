import type { ConfigurationItem, ConfigurationUpdate } from "@outrig/core";
import { sleep } from "../pubsub/wait.ts";
import { waitUntil } from "../testing/wait.ts";

/** The updates one subscription received, with waits that explain what was missing. */
export class Collector {
  readonly updates: ConfigurationUpdate[] = [];
  /** Calls made after `stopped` was marked (there must be none). */
  late = 0;
  #stopped = false;

  readonly handler = async (update: ConfigurationUpdate): Promise<void> => {
    if (this.#stopped) this.late++;
    this.updates.push(update);
  };

  /** Every delivered item of `key`, in delivery order. */
  of(key: string): ConfigurationItem[] {
    return this.updates.flatMap((u) => (u.items[key] ? [u.items[key]] : []));
  }

  values(key: string): string[] {
    return this.of(key).map((i) => i.value);
  }

  /** From now on every call counts as late. */
  markStopped(): void {
    this.#stopped = true;
  }

  async waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    await waitUntil(done, timeoutMs, () => `${what}; received ${JSON.stringify(this.updates)}`);
  }

  /** Waits until `key` was delivered with `value`. */
  async waitForValue(key: string, value: string, timeoutMs: number): Promise<void> {
    await this.waitFor(
      () => this.values(key).includes(value),
      timeoutMs,
      `waiting for ${key}=${value}`,
    );
  }

  /** Lets `ms` pass, for checks that nothing (more) arrives. */
  quiet(ms: number): Promise<void> {
    return sleep(ms);
  }
}
