import {
  BaseConversation,
  type ComponentContext,
  type ConversationCapability,
  type ConversationDefinition,
  type ConversationMessage,
  type ConversationRequest,
  type ConversationResponse,
  type ConversationTool,
  type ConversationToolCall,
  defineOptions,
  type Metadata,
  messageText,
  type OptionsInput,
  option,
} from "@outrig/core";

const COMPONENT_TYPE = "conversation.echo";

export const echoOptions = defineOptions(COMPONENT_TYPE, {
  model: option.string({
    description: "The model name the answers report (Dapr's echo reads it too); none by default.",
  }),
});

export type EchoConversationMetadata = OptionsInput<typeof echoOptions.fields>;

/** Names a tool may be spelled as in a message: `send_email`, `sendEmail`, `send-email`, `send email`. */
function spellings(name: string): string[] {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  return [words.join("_"), words.join(""), words.join("-"), words.join(" ")];
}

/** A value of the JSON Schema's type, as Dapr's echo makes them (strings echo the message). */
function sample(schema: unknown, text: string): unknown {
  const type = (schema as { type?: unknown } | undefined)?.type;
  switch (type) {
    case "integer":
    case "number":
      return 42;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return argumentsFor(schema as Record<string, unknown>, text);
    default:
      return text;
  }
}

function argumentsFor(schema: Record<string, unknown> | undefined, text: string): unknown {
  const properties = (schema?.properties ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sample(v, text)]));
}

/**
 * Dapr's echo test component: answers the last user message back (or, when the conversation
 * ends with a tool's result, that result). With tools it calls each tool a user message names
 * (in any spelling), or the one `toolChoice` names; `required` calls the first tool when none is
 * named; `none` calls nothing. Dapr's echo also matches eight keyword categories ("check the
 * weather"); that heuristic is not reproduced.
 */
export class EchoConversation extends BaseConversation {
  readonly componentType = COMPONENT_TYPE;
  readonly capabilities: ReadonlySet<ConversationCapability> = new Set(["TOOL_CALLING"]);
  private calls = 0;
  private readonly model: string | undefined;

  constructor(model: string | undefined) {
    super();
    this.model = model;
  }

  protected async respond(request: ConversationRequest): Promise<ConversationResponse> {
    const { messages } = request;
    const last = messages[messages.length - 1];
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const echoed: ConversationMessage | undefined =
      last?.role === "tool" ? last : (lastUser ?? last);
    const text = echoed ? messageText(echoed) : "";
    const toolCalls = last?.role === "tool" ? [] : this.toolCalls(request, messages, text);
    const promptTokens = Math.max(1, Math.floor(text.length / 4));
    const completion = toolCalls.length > 0 ? "" : text;
    const completionTokens = Math.max(1, Math.floor(completion.length / 4));
    const model = request.metadata?.model || this.model;
    return {
      outputs: [
        {
          choices: [
            {
              finishReason: toolCalls.length > 0 ? "tool_calls" : "stop",
              index: 0,
              message: {
                content: completion,
                ...(toolCalls.length > 0 ? { toolCalls } : {}),
              },
            },
          ],
          ...(model ? { model } : {}),
          usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
        },
      ],
    };
  }

  private toolCalls(
    request: ConversationRequest,
    messages: ConversationMessage[],
    text: string,
  ): ConversationToolCall[] {
    const tools = request.tools ?? [];
    const choice = request.toolChoice ?? "auto";
    if (tools.length === 0 || choice === "none") return [];
    let chosen: ConversationTool[];
    const forced = tools.find((t) => t.name === choice);
    if (forced) chosen = [forced];
    else {
      const said = messages
        .filter((m) => m.role === "user")
        .map((m) => messageText(m).toLowerCase())
        .join("\n");
      chosen = tools.filter((t) => spellings(t.name).some((s) => said.includes(s)));
      if (chosen.length === 0 && choice === "required") chosen = tools.slice(0, 1);
    }
    return chosen.map((t) => ({
      id: `call_echo_${++this.calls}`,
      name: t.name,
      arguments: JSON.stringify(argumentsFor(t.parameters, text)),
    }));
  }
}

async function openEcho(
  metadata: Metadata,
  _context?: ComponentContext,
): Promise<EchoConversation> {
  const options = echoOptions.parse(metadata);
  return new EchoConversation(options.model);
}

/** Creates `conversation.echo` in-process. */
export function createEchoConversation(
  options: EchoConversationMetadata = {},
): Promise<EchoConversation> {
  return openEcho(echoOptions.fromOptions(options));
}

export const echoConversationDefinition: ConversationDefinition = {
  type: COMPONENT_TYPE,
  kind: "conversation",
  version: "v1",
  status: "alpha",
  description: "Dapr's echo test component: answers the last user message back, calls named tools.",
  capabilities: ["TOOL_CALLING"],
  options: echoOptions,
  create: openEcho,
};
