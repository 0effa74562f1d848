import { setTimeout as delay } from "node:timers/promises";

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? delay(ms) : Promise.resolve();
}

/** A promise plus its resolver, for handlers the test holds open on purpose. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
