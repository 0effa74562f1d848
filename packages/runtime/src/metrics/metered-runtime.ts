import type { Runtime } from "../runtime.ts";
import type { SidecarMetrics } from "./sidecar-metrics.ts";

type Kind = "state" | "output_binding" | "secret";

/** Component methods that are counted, with daprd's `operation` label for each. */
const STATE_OPERATIONS: Readonly<Record<string, string>> = {
  get: "get",
  set: "set",
  delete: "delete",
  bulkGet: "bulk_get",
  bulkSet: "bulk_set",
  bulkDelete: "bulk_delete",
  transact: "transaction",
  query: "query",
};
const SECRET_OPERATIONS: Readonly<Record<string, string>> = { get: "get", bulkGet: "bulk_get" };

/**
 * Wraps an instance so each counted method records its count and latency; every other property
 * passes through. Methods run on the instance itself (private fields need it as `this`), and the
 * wrapped functions are made once per method, not per call.
 */
function metered<T extends object>(
  instance: T,
  operations: Readonly<Record<string, string>>,
  record: (operation: string, args: unknown[], success: boolean, ms: number) => void,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(instance, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      const operation = typeof property === "string" ? operations[property] : undefined;
      if (operation === undefined || typeof value !== "function") return value;
      let fn = wrapped.get(property);
      if (!fn) {
        fn = async (...args: unknown[]) => {
          const began = performance.now();
          try {
            const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
            record(operation, args, true, performance.now() - began);
            return result;
          } catch (error) {
            record(operation, args, false, performance.now() - began);
            throw error;
          }
        };
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

/**
 * The runtime as the sidecar's API sees it, with daprd's component metrics recorded around every
 * state, publish, output binding and secret operation. Only the sidecar wraps its runtime, and
 * only when metrics are enabled, so library mode and `--enable-metrics=false` pay nothing.
 */
export function meteredRuntime(runtime: Runtime, metrics: SidecarMetrics): Runtime {
  const cache = new Map<string, unknown>();
  const once = <T extends object>(key: string, make: () => T): T => {
    let view = cache.get(key) as T | undefined;
    if (!view) {
      view = make();
      cache.set(key, view);
    }
    return view;
  };
  const operation =
    (kind: Kind, name: string) => (op: string, _args: unknown[], ok: boolean, ms: number) =>
      metrics.operation(kind, name, op, ok, ms);
  return new Proxy(runtime, {
    get(target, property) {
      switch (property) {
        case "stateStore":
          return (name: string) =>
            once(`state/${name}`, () =>
              metered(target.stateStore(name), STATE_OPERATIONS, operation("state", name)),
            );
        case "secretStore":
          return (name: string) =>
            once(`secret/${name}`, () =>
              metered(target.secretStore(name), SECRET_OPERATIONS, operation("secret", name)),
            );
        case "binding":
          return (name: string) =>
            once(`binding/${name}`, () =>
              metered(target.binding(name), { invoke: "invoke" }, (_op, args, ok, ms) =>
                metrics.operation(
                  "output_binding",
                  name,
                  String((args[0] as { operation?: string } | undefined)?.operation ?? ""),
                  ok,
                  ms,
                ),
              ),
            );
        case "pubsub":
          return (name: string) =>
            once(`pubsub/${name}`, () =>
              metered(
                target.pubsub(name),
                { publish: "publish", bulkPublish: "bulk_publish" },
                (_op, args, ok, ms) =>
                  metrics.pubsubEgress(
                    name,
                    String((args[0] as { topic?: string } | undefined)?.topic ?? ""),
                    ok,
                    ms,
                  ),
              ),
            );
        default:
          return Reflect.get(target, property, target);
      }
    },
  });
}
