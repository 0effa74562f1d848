import { defineManifest } from "@outrig/core";
import { configurationDefinition } from "./configuration.ts";
import { echoConversationDefinition } from "./conversation-echo.ts";
import { lockDefinition } from "./lock.ts";
import { pubsubDefinition } from "./pubsub.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/memory",
  version: "0.1.0",
  components: [
    stateDefinition,
    pubsubDefinition,
    configurationDefinition,
    lockDefinition,
    echoConversationDefinition,
  ],
});
