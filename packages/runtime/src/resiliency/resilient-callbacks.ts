import { type AppCallbacks, type DeliveryResult, decorateCallbacks } from "../app/callbacks.ts";
import { type ResiliencyPolicies, runWithPolicy } from "./policies.ts";

/** A RETRY answer, thrown so the policy retries it and a breaker counts it as a failure. */
class RetryAnswer extends Error {
  readonly result: DeliveryResult;
  constructor(result: DeliveryResult) {
    super(`the app answered RETRY (${result.detail})`);
    this.result = result;
  }
}

/**
 * The app callbacks with the inbound Resiliency policies of the delivering component applied
 * (`targets.components.<name>.inbound`, or Dapr's component defaults): a message the app answers
 * RETRY, or cannot be delivered, and a failed binding event are retried by the policy before the
 * subscription's own handling (dead letter, the broker's redelivery) takes over.
 */
export function resilientCallbacks(
  callbacks: AppCallbacks,
  policies: ResiliencyPolicies,
): AppCallbacks {
  return decorateCallbacks(callbacks, {
    async topicEvent(delivery, signal) {
      const policy = policies.componentInbound(delivery.pubsubname);
      if (!policy) return callbacks.topicEvent(delivery, signal);
      try {
        return await runWithPolicy(
          policy,
          `delivery of ${delivery.pubsubname}/${delivery.topic} to ${delivery.path}`,
          async () => {
            const result = await callbacks.topicEvent(delivery, signal);
            if (result.outcome === "RETRY") throw new RetryAnswer(result);
            return result;
          },
          { retry: true },
        );
      } catch (error) {
        if (error instanceof RetryAnswer) return error.result;
        throw error;
      }
    },
    bindingEvent(delivery, signal) {
      const policy = policies.componentInbound(delivery.name);
      if (!policy) return callbacks.bindingEvent(delivery, signal);
      return runWithPolicy(
        policy,
        `input binding ${delivery.name} event to ${delivery.route}`,
        () => callbacks.bindingEvent(delivery, signal),
        { retry: true },
      );
    },
  });
}
