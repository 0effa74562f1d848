import type { Component } from "@outrig/core";

/**
 * A component instance whose calls are counted while they run, so hot reload can close a
 * replaced or removed instance only once the calls on it have finished.
 */
export interface CountedComponent<T extends Component = Component> {
  /** The instance to hand out: the component itself, its method calls counted. */
  readonly instance: T;
  /** The component itself, uncounted (to close it). */
  readonly target: T;
  /** Calls (and callbacks the component is running, such as deliveries) not yet settled. */
  readonly inFlight: number;
  /** Resolves true once nothing is in flight, or false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Counts every method call on `component` until the promise it returns settles, and every call
 * of a function passed to it (a subscription's message handler, an input binding's event handler)
 * until that one's promise settles: a delivery runs inside the component, so it is work on it too.
 */
export function countCalls<T extends Component>(component: T): CountedComponent<T> {
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const settle = (): void => {
    if (--inFlight === 0 && waiters.length > 0) for (const w of waiters.splice(0)) w();
  };
  // On every component call: kept free of per-call closures and copies where it can be.
  const counted = (fn: (...a: unknown[]) => unknown, self: unknown, args: unknown[]): unknown => {
    inFlight++;
    let result: unknown;
    try {
      result = fn.apply(self, args);
    } catch (error) {
      settle();
      throw error;
    }
    if (isThenable(result)) result.then(settle, settle);
    else settle();
    return result;
  };
  const wrapArguments = (args: unknown[]): unknown[] => {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (typeof arg === "function")
        args[i] = (...a: unknown[]) => counted(arg as (...a: unknown[]) => unknown, undefined, a);
    }
    return args;
  };
  const methods = new Map<PropertyKey, unknown>();
  const instance = new Proxy(component, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function" || property === "constructor") return value;
      let fn = methods.get(property);
      if (!fn) {
        // Run on the instance itself (private fields need it as `this`); one wrapper per method.
        fn = (...args: unknown[]) =>
          counted(value as (...a: unknown[]) => unknown, target, wrapArguments(args));
        methods.set(property, fn);
      }
      return fn;
    },
  });
  return {
    instance,
    target: component,
    get inFlight() {
      return inFlight;
    },
    idle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.push(done);
      });
    },
  };
}
