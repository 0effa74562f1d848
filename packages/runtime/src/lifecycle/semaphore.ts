/** Limits how many calls run at once; unlimited when `max` is 0 or undefined. */
export class Semaphore {
  readonly #max: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number | undefined) {
    this.#max = max && max > 0 ? max : 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#max === 0) return fn();
    if (this.#active >= this.#max)
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}
