import { performance } from "node:perf_hooks";
import { type AppCallbacks, decorateCallbacks } from "../app/callbacks.ts";
import type { SidecarMetrics } from "./sidecar-metrics.ts";

/**
 * The app callbacks with daprd's ingress metrics recorded: `dapr_component_pubsub_ingress_*` per
 * message by the app's answer (`success`, `retry`, `drop`; a failed call is `retry`), and
 * `dapr_component_input_binding_*` per binding event.
 */
export function meteredCallbacks(callbacks: AppCallbacks, metrics: SidecarMetrics): AppCallbacks {
  return decorateCallbacks(callbacks, {
    async topicEvent(delivery, signal) {
      const began = performance.now();
      const record = (status: "success" | "retry" | "drop") =>
        metrics.pubsubIngress(
          delivery.pubsubname,
          delivery.topic,
          status,
          performance.now() - began,
        );
      try {
        const result = await callbacks.topicEvent(delivery, signal);
        record(
          result.outcome === "SUCCESS" ? "success" : result.outcome === "DROP" ? "drop" : "retry",
        );
        return result;
      } catch (error) {
        record("retry");
        throw error;
      }
    },
    async bindingEvent(delivery, signal) {
      const began = performance.now();
      try {
        const reply = await callbacks.bindingEvent(delivery, signal);
        metrics.inputBinding(delivery.name, true, performance.now() - began);
        return reply;
      } catch (error) {
        metrics.inputBinding(delivery.name, false, performance.now() - began);
        throw error;
      }
    },
  });
}
