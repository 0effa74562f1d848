export type { HttpOperation } from "./binding.ts";
export {
  createHttpBinding,
  HTTP_OPERATIONS,
  HttpBinding,
  httpBindingDefinition,
} from "./binding.ts";
export type { OpenAIConversationMetadata } from "./conversation-openai.ts";
export {
  createOpenAIConversation,
  OpenAIConversation,
  openaiConversationDefinition,
  openaiOptions,
} from "./conversation-openai.ts";
export { manifest } from "./manifest.ts";
export type { HttpBindingOptions } from "./options.ts";
export { httpBindingOptions } from "./options.ts";
