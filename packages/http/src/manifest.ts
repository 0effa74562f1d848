import { defineManifest } from "@outrig/core";
import { httpBindingDefinition } from "./binding.ts";
import { openaiConversationDefinition } from "./conversation-openai.ts";

export const manifest = defineManifest({
  packageName: "@outrig/http",
  version: "0.1.0",
  components: [httpBindingDefinition, openaiConversationDefinition],
});
