import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/** Dapr's `pubsub.in-memory` has no metadata; these fields are outrig's, named after Dapr's other brokers. */
export const memoryPubSubOptions = defineOptions("pubsub.in-memory", {
  concurrencyMode: option.enum(["single", "parallel"] as const, {
    default: "parallel",
    description:
      "`parallel` hands messages to the handler concurrently, one partition key at a time; `single` delivers one message at a time per subscription.",
  }),
  redeliverInterval: option.duration({
    default: 100,
    description:
      "Wait before redelivering a message whose handler threw; doubles on each further failure up to maxRedeliverInterval.",
    example: "100ms",
  }),
  maxRedeliverInterval: option.duration({
    default: 10_000,
    description: "Upper bound of the redelivery backoff.",
    example: "10s",
  }),
});

export type MemoryPubSubOptions = ParsedOptions<typeof memoryPubSubOptions.fields>;

/** The wait before the `attempt`-th redelivery (1-based): exponential, capped. */
export function redeliveryDelay(options: MemoryPubSubOptions, attempt: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(options.redeliverInterval * 2 ** exponent, options.maxRedeliverInterval);
}
