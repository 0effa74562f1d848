import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { redisBindingDefinition } from "./binding.ts";
import { configurationDefinition } from "./configuration.ts";
import { lockDefinition } from "./lock.ts";
import { pubsubDefinition } from "./pubsub.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/redis",
  version: pkg.version,
  components: [
    stateDefinition,
    pubsubDefinition,
    redisBindingDefinition,
    configurationDefinition,
    lockDefinition,
  ],
});
