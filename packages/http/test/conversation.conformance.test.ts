import { describeConversationConformance } from "@outrig/conformance";
import { afterAll, beforeAll } from "vitest";
import { createOpenAIConversation, openaiConversationDefinition } from "../src/index.ts";
import { startOpenAIServer } from "./openai-server.ts";

const KEY = "sk-conformance";
let server: Awaited<ReturnType<typeof startOpenAIServer>>;
beforeAll(async () => {
  server = await startOpenAIServer(KEY);
});
afterAll(() => server?.close());

describeConversationConformance({
  name: "conversation.openai (loopback OpenAI-compatible server)",
  create: () => createOpenAIConversation({ endpoint: server.url, key: KEY, model: "local-model" }),
  definition: openaiConversationDefinition,
  // The loopback server answers the last user message, or a tool's result, back.
  expectedAnswer: (prompt) => prompt,
});
