import type { Runtime } from "../runtime.ts";

/** Calls one component method on its instance with `args`. */
export type MethodCall = (args: readonly unknown[]) => Promise<unknown>;

/**
 * Makes the wrapped form of one component method, once per instance and method: `call` performs
 * it. Undefined leaves that method as it is.
 */
export type MethodWrapper = (method: string, call: MethodCall) => MethodCall | undefined;

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
  // Built with the view: a call then costs one Map lookup in the trap and the wrapper itself.
  const wrapped = new Map<PropertyKey, unknown>();
  for (const method of methods) {
    const value: unknown = Reflect.get(instance, method, instance);
    if (typeof value !== "function") continue;
    // Methods run on the instance itself (private fields need it as `this`).
    const call = wrap(method, (args) =>
      Promise.resolve(Reflect.apply(value as (...a: unknown[]) => unknown, instance, args)),
    );
    if (call) wrapped.set(method, (...args: unknown[]) => call(args));
  }
  if (wrapped.size === 0) return instance;
  return new Proxy(instance, {
    get: (target, property) => wrapped.get(property) ?? Reflect.get(target, property, target),
  });
}

/**
 * The runtime with the API-facing methods of its components wrapped (metrics, resiliency): every
 * other property passes through, and each component instance's view is built once (hot reload
 * swaps instances, so the view follows the instance the runtime gives now). The view inherits
 * from the runtime and holds the wrapped accessors as its own properties, so the API's other
 * reads of it (`has`, `names`, ...) are plain property reads; through a Proxy each cost a trap.
 */
export function wrapComponents(runtime: Runtime, wrappers: ComponentWrappers): Runtime {
  const cache = new WeakMap<object, object>();
  const view = Object.create(runtime) as Runtime;
  const own = view as unknown as Record<ComponentAccessor, (name: string) => object>;
  for (const accessor of Object.keys(METHODS) as ComponentAccessor[]) {
    const get = runtime[accessor] as (n: string) => object;
    own[accessor] = (name) => {
      const instance = get.call(runtime, name);
      let wrapped = cache.get(instance);
      if (!wrapped) {
        const wrap = wrappers(accessor, name);
        wrapped = wrap ? wrapInstance(instance, METHODS[accessor], wrap) : instance;
        cache.set(instance, wrapped);
      }
      return wrapped;
    };
  }
  return view;
}
