import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { configurationDefinition } from "./configuration.ts";
import { echoConversationDefinition } from "./conversation-echo.ts";
import { lockDefinition } from "./lock.ts";
import { pubsubDefinition } from "./pubsub.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/memory",
  version: pkg.version,
  components: [
    stateDefinition,
    pubsubDefinition,
    configurationDefinition,
    lockDefinition,
    echoConversationDefinition,
  ],
});
