import { defineManifest } from "@outrig/core";
import { redisBindingDefinition } from "./binding.ts";
import { configurationDefinition } from "./configuration.ts";
import { lockDefinition } from "./lock.ts";
import { pubsubDefinition } from "./pubsub.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/redis",
  version: "0.1.0",
  components: [
    stateDefinition,
    pubsubDefinition,
    redisBindingDefinition,
    configurationDefinition,
    lockDefinition,
  ],
});
