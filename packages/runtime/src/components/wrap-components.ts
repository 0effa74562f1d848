import type { Runtime } from "../runtime.ts";

/** Runs one component method call: `call` performs it on the instance with `args`. */
export type MethodWrapper = (
  method: string,
  args: readonly unknown[],
  call: () => Promise<unknown>,
) => Promise<unknown>;

/** The component methods the sidecar's API calls, per accessor of the runtime. */
const METHODS = {
  stateStore: ["get", "set", "delete", "bulkGet", "bulkSet", "bulkDelete", "transact", "query"],
  pubsub: ["publish", "bulkPublish"],
  binding: ["invoke"],
  secretStore: ["get", "bulkGet"],
  cryptoProvider: ["wrapKey", "unwrapKey", "getKey"],
  configurationStore: ["get", "subscribe", "unsubscribe"],
  lockStore: ["tryLock", "unlock"],
  conversation: ["converse"],
} as const;

export type ComponentAccessor = keyof typeof METHODS;

/** A wrapper per accessor and component name; undefined leaves that component as it is. */
export type ComponentWrappers = (
  accessor: ComponentAccessor,
  name: string,
) => MethodWrapper | undefined;

function wrapInstance<T extends object>(
  instance: T,
  methods: readonly string[],
  wrap: MethodWrapper,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(instance, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof property !== "string" || !methods.includes(property)) return value;
      if (typeof value !== "function") return value;
      let fn = wrapped.get(property);
      if (!fn) {
        // Methods run on the instance itself (private fields need it as `this`); the wrapped
        // function is made once per method, not per call.
        fn = (...args: unknown[]) =>
          wrap(property, args, () =>
            Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args)),
          );
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

/**
 * The runtime with the API-facing methods of its components wrapped (metrics, resiliency): every
 * other property passes through, and each component instance's view is built once (hot reload
 * swaps instances, so the view follows the instance the runtime gives now).
 */
export function wrapComponents(runtime: Runtime, wrappers: ComponentWrappers): Runtime {
  const cache = new WeakMap<object, unknown>();
  return new Proxy(runtime, {
    get(target, property) {
      if (typeof property !== "string" || !(property in METHODS))
        return Reflect.get(target, property, target);
      const accessor = property as ComponentAccessor;
      return (name: string) => {
        const instance = (target[accessor] as (n: string) => object)(name);
        let view = cache.get(instance);
        if (!view) {
          const wrap = wrappers(accessor, name);
          view = wrap ? wrapInstance(instance, METHODS[accessor], wrap) : instance;
          cache.set(instance, view);
        }
        return view;
      };
    },
  });
}
