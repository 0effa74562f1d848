import { defineOptions, option } from "@outrig/core";

/**
 * Metadata of `state.in-memory`. Dapr's in-memory store reads none; these are additions, and
 * unknown keys are ignored so Dapr YAML for the store loads unchanged.
 */
export const stateOptions = defineOptions("state.in-memory", {
  cleanupInterval: option.duration({
    description:
      "How often expired items are purged from memory (reads hide them regardless). A bare number means seconds; 0 disables the purge.",
    default: 10_000,
    aliases: ["cleanupIntervalInSeconds"],
    example: "10s",
  }),
  actorStateStore: option.boolean({
    description: "Marks the store as the actor state store; it then declares the ACTOR capability.",
    default: false,
  }),
});
