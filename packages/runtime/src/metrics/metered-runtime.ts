import { type ComponentAccessor, wrapComponents } from "../components/wrap-components.ts";
import type { Runtime } from "../runtime.ts";
import type { SidecarMetrics } from "./sidecar-metrics.ts";

/** daprd's `operation` label per state store method. */
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

function record(
  metrics: SidecarMetrics,
  accessor: ComponentAccessor,
  name: string,
  method: string,
  args: readonly unknown[],
  ok: boolean,
  ms: number,
): void {
  const first = args[0] as { operation?: string; topic?: string } | undefined;
  switch (accessor) {
    case "stateStore":
      metrics.operation("state", name, STATE_OPERATIONS[method] ?? method, ok, ms);
      return;
    case "secretStore":
      metrics.operation("secret", name, method === "bulkGet" ? "bulk_get" : "get", ok, ms);
      return;
    case "binding":
      metrics.operation("output_binding", name, String(first?.operation ?? ""), ok, ms);
      return;
    case "pubsub":
      metrics.pubsubEgress(name, String(first?.topic ?? ""), ok, ms);
      return;
    case "configurationStore":
      metrics.operation("configuration", name, method, ok, ms);
      return;
    case "lockStore":
    case "conversation":
      // daprd has no lock metric; its conversation metric is not built here yet.
      return;
    case "cryptoProvider":
      // daprd counts each key operation of the envelope; the label is the method, snake-cased.
      metrics.operation(
        "crypto",
        name,
        method.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        ok,
        ms,
      );
      return;
  }
}

/**
 * The runtime as the sidecar's API sees it, with daprd's component metrics recorded around every
 * state, publish, output binding and secret operation. Only the sidecar wraps its runtime, and
 * only when metrics are enabled, so library mode and `--enable-metrics=false` pay nothing.
 */
export function meteredRuntime(runtime: Runtime, metrics: SidecarMetrics): Runtime {
  return wrapComponents(runtime, (accessor, name) => async (method, args, call) => {
    const began = performance.now();
    try {
      const result = await call();
      record(metrics, accessor, name, method, args, true, performance.now() - began);
      return result;
    } catch (error) {
      record(metrics, accessor, name, method, args, false, performance.now() - began);
      throw error;
    }
  });
}
