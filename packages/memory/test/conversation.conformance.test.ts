import { describeConversationConformance } from "@outrig/conformance";
import type { ConversationDefinition } from "@outrig/core";
import { createEchoConversation, manifest } from "../src/index.ts";

describeConversationConformance({
  name: "conversation.echo",
  create: () => createEchoConversation(),
  definition: manifest.components.find(
    (c) => c.type === "conversation.echo",
  ) as ConversationDefinition,
  // Dapr's echo answers the last user message, or a tool's result, back.
  expectedAnswer: (prompt) => prompt,
});
