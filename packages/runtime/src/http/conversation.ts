import type { ServerResponse } from "node:http";
import type { ConversationOutput, ConversationToolCall } from "@outrig/core";
import { converseAlpha1, converseAlpha2 } from "../api/conversation.ts";
import { parseJsonAs } from "../api/json.ts";
import type { Handler } from "./context.ts";
import { field, queryMetadata, readBody, sendJson, stringMap } from "./io.ts";

// Decoding and encoding only: the conversation rules live in ../api/conversation.ts.

/** Aborted when the caller goes away before its answer is out. */
function callerSignal(res: ServerResponse): AbortSignal {
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort(new Error("the caller went away"));
  });
  return abort.signal;
}

async function body(req: Parameters<Handler>[1]): Promise<Record<string, unknown>> {
  const bytes = await readBody(req);
  const parsed = bytes.byteLength === 0 ? {} : parseJsonAs(bytes);
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** protojson of ConversationToolCalls. */
const toolCallJson = (c: ConversationToolCall) => ({
  ...(c.id ? { id: c.id } : {}),
  function: { name: c.name, arguments: c.arguments },
});

/** protojson of ConversationResultAlpha2: zero values left out, uint64 as strings. */
function outputJson(o: ConversationOutput): Record<string, unknown> {
  return {
    choices: o.choices.map((c) => ({
      ...(c.finishReason ? { finishReason: c.finishReason } : {}),
      ...(c.index ? { index: String(c.index) } : {}),
      message: {
        ...(c.message.content ? { content: c.message.content } : {}),
        ...(c.message.toolCalls?.length
          ? { toolCalls: c.message.toolCalls.map(toolCallJson) }
          : {}),
      },
    })),
    ...(o.model ? { model: o.model } : {}),
    ...(o.usage
      ? {
          usage: {
            completionTokens: String(o.usage.completionTokens),
            promptTokens: String(o.usage.promptTokens),
            totalTokens: String(o.usage.totalTokens),
          },
        }
      : {}),
  };
}

export const converseAlpha2Route: Handler = async (ctx, req, res, params, query) => {
  const b = await body(req);
  const result = await converseAlpha2(ctx, {
    name: params.name as string,
    contextId: b.contextId ?? b.context_id,
    inputs: b.inputs,
    parameters: b.parameters,
    // URL metadata wins over the body's (Dapr's documented precedence).
    metadata: { ...stringMap(b.metadata), ...queryMetadata(query) },
    scrubPii: b.scrubPii ?? b.scrub_pii,
    temperature: b.temperature,
    tools: b.tools,
    toolChoice: b.toolChoice ?? b.tool_choice,
    responseFormat: b.responseFormat ?? b.response_format,
    signal: callerSignal(res),
  });
  sendJson(res, 200, {
    ...(result.contextId ? { contextId: result.contextId } : {}),
    outputs: result.outputs.map(outputJson),
  });
};

export const converseAlpha1Route: Handler = async (ctx, req, res, params, query) => {
  const b = await body(req);
  const result = await converseAlpha1(ctx, {
    name: params.name as string,
    contextId: field(b, "contextID"),
    inputs: b.inputs,
    parameters: b.parameters,
    metadata: { ...stringMap(b.metadata), ...queryMetadata(query) },
    scrubPii: field(b, "scrubPII"),
    temperature: b.temperature,
    signal: callerSignal(res),
  });
  sendJson(res, 200, {
    ...(result.contextId ? { contextID: result.contextId } : {}),
    outputs: result.outputs,
  });
};
