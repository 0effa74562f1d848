import {
  CONVERSATION_CAPABILITIES,
  ComponentError,
  type ConversationDefinition,
  type ConversationProvider,
  type ConversationRequest,
  type ConversationResponse,
} from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

export interface ConversationConformanceConfig {
  /** Shown in test names, e.g. `echo` or `openai-local`. */
  name: string;
  /** Creates an initialised component; called once for the suite and once for the close case. */
  create: () => Promise<ConversationProvider>;
  /** The manifest entry: an instance may declare only capabilities it lists. */
  definition?: ConversationDefinition;
  /**
   * The text the component answers to the user message `prompt` (echo: the prompt itself);
   * absent for a real model, where only a non-empty answer is checked.
   */
  expectedAnswer?: (prompt: string) => string;
}

/** The title prefix of every case (Dapr's conversation suite has one case, `converse`). */
export const CONVERSATION_CASES = {
  init: "init",
  converse: "converse",
  history: "history",
  toolCall: "tool call",
  toolResult: "tool result",
  capabilities: "capabilities both ways",
  cancelled: "cancelled",
  close: "close",
} as const;

const FINISH_REASONS = ["stop", "length", "tool_calls", "content_filter"];

const user = (text: string): ConversationRequest["messages"][number] => ({
  role: "user",
  content: [text],
});

const WEATHER_TOOL = {
  name: "get_weather",
  description: "Get the current weather for a location",
  parameters: {
    type: "object",
    properties: { location: { type: "string", description: "The city" } },
    required: ["location"],
  },
};

function firstChoice(response: ConversationResponse) {
  expect(response.outputs.length).toBeGreaterThanOrEqual(1);
  const choice = response.outputs[0]?.choices[0];
  expect(choice, "the first output has a choice").toBeDefined();
  expect(FINISH_REASONS).toContain(choice?.finishReason);
  return choice as NonNullable<typeof choice>;
}

async function failure(promise: Promise<unknown>): Promise<ComponentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ComponentError);
  return error as ComponentError;
}

/**
 * Registers the conversation conformance suite for one component: Dapr's `converse` case (a
 * user message gets an answer) and beyond it the conversation history, tool calls both ways
 * (declared: a forced tool call names the tool with JSON arguments, and a tool's result is
 * answered; undeclared: tools are refused with ERR_NOT_SUPPORTED), a cancelled request and close.
 */
export function describeConversationConformance(config: ConversationConformanceConfig): void {
  describe(`conversation conformance: ${config.name}`, () => {
    let component: ConversationProvider;
    beforeAll(async () => {
      component = await config.create();
    });
    afterAll(() => component?.close());

    it(`${CONVERSATION_CASES.init}: declares known capabilities, each listed by its definition; pings`, async () => {
      for (const cap of component.capabilities) {
        expect(CONVERSATION_CAPABILITIES).toContain(cap);
        if (config.definition) expect(config.definition.capabilities).toContain(cap);
      }
      await component.ping();
    });

    it(`${CONVERSATION_CASES.converse}: a user message is answered`, async () => {
      const prompt = "Please write a witty haiku about the Dapr distributed programming framework";
      const choice = firstChoice(await component.converse({ messages: [user(prompt)] }));
      expect(choice.finishReason).toBe("stop");
      expect(choice.message.content.length).toBeGreaterThan(0);
      expect(choice.message.toolCalls ?? []).toEqual([]);
      if (config.expectedAnswer) expect(choice.message.content).toBe(config.expectedAnswer(prompt));
    });

    it(`${CONVERSATION_CASES.history}: system, user and assistant turns are taken together`, async () => {
      const choice = firstChoice(
        await component.converse({
          messages: [
            { role: "system", content: ["You answer in one word."] },
            user("Name a colour."),
            { role: "assistant", content: ["Blue."] },
            user("Another one."),
          ],
          temperature: 0,
        }),
      );
      expect(choice.message.content.length).toBeGreaterThan(0);
      if (config.expectedAnswer)
        expect(choice.message.content).toBe(config.expectedAnswer("Another one."));
    });

    it(`${CONVERSATION_CASES.capabilities}: tools and responseFormat only when declared`, async () => {
      const tools = component.capabilities.has("TOOL_CALLING");
      const format = component.capabilities.has("RESPONSE_FORMAT");
      const withTools = component.converse({
        messages: [user("What is the weather in Paris?")],
        tools: [WEATHER_TOOL],
        toolChoice: "none",
      });
      if (tools) firstChoice(await withTools);
      else expect((await failure(withTools)).code).toBe("ERR_NOT_SUPPORTED");
      const withFormat = component.converse({
        messages: [user("Give a colour as JSON {colour}")],
        responseFormat: {
          type: "json_schema",
          json_schema: {
            name: "colour",
            schema: { type: "object", properties: { colour: { type: "string" } } },
          },
        },
      });
      if (format) JSON.parse(firstChoice(await withFormat).message.content);
      else expect((await failure(withFormat)).code).toBe("ERR_NOT_SUPPORTED");
    });

    it(`${CONVERSATION_CASES.toolCall}: a forced tool is called by name with JSON arguments (TOOL_CALLING; else refused)`, async () => {
      const request = component.converse({
        messages: [user("What is the weather like in San Francisco? use get_weather")],
        tools: [WEATHER_TOOL],
        toolChoice: "get_weather",
      });
      if (!component.capabilities.has("TOOL_CALLING")) {
        expect((await failure(request)).code).toBe("ERR_NOT_SUPPORTED");
        return;
      }
      const choice = firstChoice(await request);
      expect(choice.finishReason).toBe("tool_calls");
      const call = choice.message.toolCalls?.[0];
      expect(call?.name).toBe("get_weather");
      expect(call?.id).toBeTruthy();
      const args = JSON.parse(call?.arguments ?? "") as Record<string, unknown>;
      expect(typeof args.location).toBe("string");
    });

    it(`${CONVERSATION_CASES.toolResult}: a tool's result is answered in text (TOOL_CALLING; else refused)`, async () => {
      const result = '{"temperature": 72, "condition": "sunny"}';
      const request = component.converse({
        messages: [
          user("What is the weather in San Francisco?"),
          {
            role: "assistant",
            content: [],
            toolCalls: [
              { id: "call_1", name: "get_weather", arguments: '{"location":"San Francisco"}' },
            ],
          },
          { role: "tool", name: "get_weather", toolId: "call_1", content: [result] },
        ],
        tools: [WEATHER_TOOL],
      });
      if (!component.capabilities.has("TOOL_CALLING")) {
        expect((await failure(request)).code).toBe("ERR_NOT_SUPPORTED");
        return;
      }
      const choice = firstChoice(await request);
      expect(choice.finishReason).toBe("stop");
      expect(choice.message.content.length).toBeGreaterThan(0);
      if (config.expectedAnswer) expect(choice.message.content).toBe(config.expectedAnswer(result));
    });

    it(`${CONVERSATION_CASES.cancelled}: a request whose signal aborted is refused, the component still answers`, async () => {
      const abort = new AbortController();
      abort.abort(new Error("caller left"));
      await failure(component.converse({ messages: [user("hello")], signal: abort.signal }));
      firstChoice(await component.converse({ messages: [user("hello")] }));
    });

    it(`${CONVERSATION_CASES.close}: after close every call rejects with ERR_CLOSED; close is idempotent`, async () => {
      const own = await config.create();
      await own.close();
      await own.close();
      expect((await failure(own.converse({ messages: [user("hello")] }))).code).toBe("ERR_CLOSED");
      expect((await failure(own.ping())).code).toBe("ERR_CLOSED");
    });
  });
}
