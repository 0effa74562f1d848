import type { Component } from "./component.ts";
import { BaseComponent } from "./kit/base-component.ts";
import type { Metadata } from "./metadata.ts";

/**
 * Capabilities of a conversation component (Dapr's spellings where it has them):
 * `TOOL_CALLING` takes `tools` and answers tool calls (Dapr's ToolCallSupport);
 * `RESPONSE_FORMAT` takes a JSON-schema `responseFormat` (structured output).
 */
export const CONVERSATION_CAPABILITIES = ["TOOL_CALLING", "RESPONSE_FORMAT"] as const;
export type ConversationCapability = (typeof CONVERSATION_CAPABILITIES)[number];

/** The roles of Dapr's Alpha2 messages (`ofDeveloper`, `ofSystem`, ...). */
export const CONVERSATION_ROLES = ["developer", "system", "user", "assistant", "tool"] as const;
export type ConversationRole = (typeof CONVERSATION_ROLES)[number];

/** A function call the model asks the client to make (or one an assistant message recalls). */
export interface ConversationToolCall {
  id?: string;
  name: string;
  /** The arguments as the model wrote them: JSON text, not necessarily valid. */
  arguments: string;
}

export interface ConversationMessage {
  role: ConversationRole;
  /** The participant's name; for a `tool` message, the tool's. */
  name?: string;
  /** Text parts, in order. */
  content: string[];
  /** `assistant` only: the tool calls it made. */
  toolCalls?: ConversationToolCall[];
  /** `tool` only: the id of the call this message answers. */
  toolId?: string;
}

/** A function the model may call (OpenAI's function definition). */
export interface ConversationTool {
  name: string;
  description?: string;
  /** JSON Schema of the arguments; absent means no parameters. */
  parameters?: Record<string, unknown>;
}

export interface ConversationRequest {
  /** Every input's messages, in order (the conversation so far). */
  messages: ConversationMessage[];
  tools?: ConversationTool[];
  /** `none`, `auto`, `required` or a tool's name. */
  toolChoice?: string;
  temperature?: number;
  /** JSON Schema structured output (`{type: "json_schema", json_schema: ...}` for OpenAI). */
  responseFormat?: Record<string, unknown>;
  /** Custom fields (Dapr's `parameters`), unwrapped from their protobuf Any to JSON values. */
  parameters?: Record<string, unknown>;
  /** Per-request metadata; overrides the component's own (Dapr: `model`, `api_key`, ...). */
  metadata?: Metadata;
  /** Aborts the call to the model (the caller left, or its deadline passed). */
  signal?: AbortSignal;
}

export interface ConversationUsage {
  completionTokens: number;
  promptTokens: number;
  totalTokens: number;
}

export interface ConversationChoice {
  /** `stop`, `length`, `tool_calls` or `content_filter`. */
  finishReason: string;
  index: number;
  message: { content: string; toolCalls?: ConversationToolCall[] };
}

export interface ConversationOutput {
  choices: ConversationChoice[];
  model?: string;
  usage?: ConversationUsage;
}

export interface ConversationResponse {
  outputs: ConversationOutput[];
}

export interface ConversationProvider extends Component {
  readonly capabilities: ReadonlySet<ConversationCapability>;
  /**
   * One call to the model. Rejects with ERR_NOT_SUPPORTED for tools or a response format the
   * component does not declare, ERR_TIMEOUT past its timeout, ERR_UNAVAILABLE when the model
   * cannot be reached, ERR_INVALID_REQUEST when the model refuses the request.
   */
  converse(request: ConversationRequest): Promise<ConversationResponse>;
}

export function isConversationProvider(c: unknown): c is ConversationProvider {
  return typeof (c as ConversationProvider | undefined)?.converse === "function";
}

/**
 * The rules every conversation component shares, in one place: a component extends this and
 * implements `respond`; a request using a capability the instance does not declare is refused
 * before it is sent, one whose signal already aborted is not sent, and after `close` every call
 * rejects with ERR_CLOSED.
 */
export abstract class BaseConversation extends BaseComponent implements ConversationProvider {
  abstract readonly capabilities: ReadonlySet<ConversationCapability>;

  async converse(request: ConversationRequest): Promise<ConversationResponse> {
    this.checkOpen();
    if ((request.tools?.length ?? 0) > 0) {
      this.requireCapability(this.capabilities, "TOOL_CALLING", "tool calling");
    }
    if (request.responseFormat) {
      this.requireCapability(this.capabilities, "RESPONSE_FORMAT", "responseFormat");
    }
    if (request.signal?.aborted) {
      throw this.errors.error("ERR_TIMEOUT", "the request was cancelled before it was sent", {
        cause: request.signal.reason,
      });
    }
    return this.respond(request);
  }

  protected abstract respond(request: ConversationRequest): Promise<ConversationResponse>;
}

/** The text of a message: its parts, joined as Dapr's providers join them. */
export function messageText(message: ConversationMessage): string {
  return message.content.join("");
}
