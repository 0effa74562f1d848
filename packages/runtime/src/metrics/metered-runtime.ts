import { performance } from "node:perf_hooks";
import {
  type ComponentAccessor,
  type MethodCall,
  wrapComponents,
} from "../components/wrap-components.ts";
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

/** Records one call's outcome; `args` for the metrics labelled by a request field. */
type Recorder = (args: readonly unknown[], ok: boolean, ms: number) => void;

/** What a call of `method` on component `name` records, made once per method; undefined: nothing. */
function recorder(
  metrics: SidecarMetrics,
  accessor: ComponentAccessor,
  name: string,
  method: string,
): Recorder | undefined {
  const fixed =
    (r: (ok: boolean, ms: number) => void): Recorder =>
    (_, ok, ms) =>
      r(ok, ms);
  switch (accessor) {
    case "stateStore":
      return fixed(metrics.operationRecorder("state", name, STATE_OPERATIONS[method] ?? method));
    case "secretStore":
      return fixed(
        metrics.operationRecorder("secret", name, method === "bulkGet" ? "bulk_get" : "get"),
      );
    case "binding":
      return (args, ok, ms) => {
        const first = args[0] as { operation?: string } | undefined;
        metrics.operation("output_binding", name, String(first?.operation ?? ""), ok, ms);
      };
    case "pubsub":
      return (args, ok, ms) => {
        const first = args[0] as { topic?: string } | undefined;
        metrics.pubsubEgress(name, String(first?.topic ?? ""), ok, ms);
      };
    case "configurationStore":
      return fixed(metrics.operationRecorder("configuration", name, method));
    case "lockStore":
    case "conversation":
      // daprd has no lock metric; its conversation metric is not built here yet.
      return undefined;
    case "cryptoProvider":
      // daprd counts each key operation of the envelope; the label is the method, snake-cased.
      return fixed(
        metrics.operationRecorder(
          "crypto",
          name,
          method.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
        ),
      );
  }
}

/** `call` with its outcome and duration recorded; a synchronous throw counts as a failure. */
function metered(call: MethodCall, record: Recorder): MethodCall {
  return (args) => {
    const began = performance.now();
    let pending: Promise<unknown>;
    try {
      pending = call(args);
    } catch (error) {
      record(args, false, performance.now() - began);
      return Promise.reject(error);
    }
    return pending.then(
      (result) => {
        record(args, true, performance.now() - began);
        return result;
      },
      (error: unknown) => {
        record(args, false, performance.now() - began);
        throw error;
      },
    );
  };
}

/**
 * The runtime as the sidecar's API sees it, with daprd's component metrics recorded around every
 * state, publish, output binding and secret operation. Only the sidecar wraps its runtime, and
 * only when metrics are enabled, so library mode and `--enable-metrics=false` pay nothing.
 */
export function meteredRuntime(runtime: Runtime, metrics: SidecarMetrics): Runtime {
  return wrapComponents(runtime, (accessor, name) => (method, call) => {
    const record = recorder(metrics, accessor, name, method);
    return record ? metered(call, record) : undefined;
  });
}
