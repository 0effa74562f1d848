import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { httpBindingDefinition } from "./binding.ts";
import { openaiConversationDefinition } from "./conversation-openai.ts";

export const manifest = defineManifest({
  packageName: "@outrig/http",
  version: pkg.version,
  components: [httpBindingDefinition, openaiConversationDefinition],
});
