import type { DeleteRequest, SetRequest, TransactionRequest } from "@outrig/core";
import { wrapComponents } from "../components/wrap-components.ts";
import type { Runtime } from "../runtime.ts";
import { type ResiliencyPolicies, runWithPolicy } from "./policies.ts";

/**
 * Whether a state call may be retried: a write that carries an ETag is not, since a first
 * attempt that applied but timed out would make the retry fail or, worse, apply again.
 */
function retryable(method: string, args: readonly unknown[]): boolean {
  const first = args[0];
  switch (method) {
    case "set":
    case "delete":
      return !(first as SetRequest | DeleteRequest | undefined)?.etag;
    case "bulkSet":
    case "bulkDelete":
      return !(first as (SetRequest | DeleteRequest)[] | undefined)?.some((r) => r?.etag);
    case "transact":
      return !(first as TransactionRequest | undefined)?.operations?.some((o) => o.request?.etag);
    default:
      return true;
  }
}

/**
 * The runtime with the Resiliency policies of `targets.components.<name>.outbound` (or Dapr's
 * default policies) applied to every call the API makes to a component: timeout per attempt,
 * circuit breaker, retries.
 */
export function resilientRuntime(runtime: Runtime, policies: ResiliencyPolicies): Runtime {
  return wrapComponents(runtime, (accessor, name) => {
    const policy = policies.componentOutbound(name);
    if (!policy) return undefined;
    return (method, call) => {
      const what = `${accessor === "stateStore" ? "state" : accessor === "cryptoProvider" ? "crypto" : accessor} ${name} ${method}`;
      return (args) =>
        runWithPolicy(policy, what, () => call(args), {
          // A lock call is never retried: a try that took the lock and then timed out would
          // find it held (and answer false), an unlock that applied would find none.
          retry: accessor === "stateStore" ? retryable(method, args) : accessor !== "lockStore",
        });
    };
  });
}
