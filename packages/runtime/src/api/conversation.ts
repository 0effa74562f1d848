import {
  CONVERSATION_ROLES,
  type ConversationMessage,
  type ConversationOutput,
  type ConversationProvider,
  type ConversationRole,
  type ConversationTool,
  type ConversationToolCall,
  type Metadata,
} from "@outrig/core";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";
import { scrubPii } from "./pii.ts";

/**
 * The conversation API (Dapr's ConverseAlpha2, and the deprecated Alpha1) over any transport.
 * Requests arrive in the JSON shape of Dapr's protos (protojson names: `ofUser`, `toolCalls`,
 * `scrubPii`, and the proto names `of_user`, `tool_calls`, `scrub_pii` too); the transports
 * decode their wire format into it and encode the result.
 */

export interface ConverseAlpha2Input {
  name: string;
  contextId?: unknown;
  inputs?: unknown;
  /** Each value an Any in protojson form (`{"@type": "...StringValue", "value": "x"}`) or plain JSON. */
  parameters?: unknown;
  metadata?: Metadata;
  scrubPii?: unknown;
  temperature?: unknown;
  tools?: unknown;
  toolChoice?: unknown;
  responseFormat?: unknown;
  signal?: AbortSignal;
}

export interface ConverseAlpha2Result {
  contextId?: string;
  outputs: ConversationOutput[];
}

export interface ConverseAlpha1Input {
  name: string;
  contextId?: unknown;
  /** `[{content, role?, scrubPII?}]` */
  inputs?: unknown;
  parameters?: unknown;
  metadata?: Metadata;
  scrubPii?: unknown;
  temperature?: unknown;
  signal?: AbortSignal;
}

export interface ConverseAlpha1Result {
  contextId?: string;
  /** One per choice of the model's answer; `parameters` are the request's, as Dapr echoes them. */
  outputs: { result: string; parameters: Record<string, unknown> }[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A field by its protojson name or its proto name (`toolCalls` / `tool_calls`). */
function pick(o: Json, camel: string): unknown {
  if (o[camel] !== undefined && o[camel] !== null) return o[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return o[snake] ?? undefined;
}

function malformed(detail: string): never {
  throw apiError("MALFORMED_REQUEST", { detail });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") malformed(`${field} must be a string`);
  return value;
}

function optionalBool(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") malformed(`${field} must be a boolean`);
  return value;
}

function optionalNumber(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) malformed(`${field} must be a number`);
  return value;
}

function texts(content: unknown, field: string): string[] {
  if (content === undefined || content === null) return [];
  if (!Array.isArray(content)) malformed(`${field} must be an array of {text}`);
  return content.map((part, i) => {
    if (!isObject(part) || (part.text !== undefined && typeof part.text !== "string"))
      malformed(`${field}[${i}] must be {text: string}`);
    return (part.text as string | undefined) ?? "";
  });
}

function toolCalls(value: unknown, field: string): ConversationToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) malformed(`${field} must be an array`);
  return value.map((call, i) => {
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(call) || !isObject(fn) || typeof fn.name !== "string" || !fn.name)
      malformed(`${field}[${i}] must be {id?, function: {name, arguments}}`);
    const id = optionalString(call.id, `${field}[${i}].id`);
    const args = fn.arguments ?? "";
    if (typeof args !== "string") malformed(`${field}[${i}].function.arguments must be a string`);
    return { ...(id ? { id } : {}), name: fn.name, arguments: args };
  });
}

const MESSAGE_TYPES: readonly [string, ConversationRole][] = CONVERSATION_ROLES.map((role) => [
  `of${role[0]?.toUpperCase()}${role.slice(1)}`,
  role,
]);

function message(value: unknown, field: string, scrub: boolean): ConversationMessage {
  if (!isObject(value)) malformed(`${field} must be an object`);
  const present = MESSAGE_TYPES.filter(([key]) => pick(value, key) !== undefined);
  if (present.length !== 1) {
    malformed(
      `${field} must have exactly one of ${MESSAGE_TYPES.map(([k]) => k).join(", ")}${
        present.length > 1 ? ` (it has ${present.map(([k]) => k).join(", ")})` : ""
      }`,
    );
  }
  const [key, role] = present[0] as [string, ConversationRole];
  const body = pick(value, key);
  if (!isObject(body)) malformed(`${field}.${key} must be an object`);
  const name = optionalString(body.name, `${field}.${key}.name`);
  const content = texts(body.content, `${field}.${key}.content`).map((t) =>
    scrub ? scrubPii(t) : t,
  );
  const out: ConversationMessage = { role, content, ...(name ? { name } : {}) };
  if (role === "assistant") {
    const calls = toolCalls(pick(body, "toolCalls"), `${field}.${key}.toolCalls`);
    if (calls.length > 0) out.toolCalls = calls;
  }
  if (role === "tool") {
    const toolId = optionalString(pick(body, "toolId"), `${field}.${key}.toolId`);
    if (toolId) out.toolId = toolId;
  }
  return out;
}

function tools(value: unknown): ConversationTool[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) malformed("tools must be an array");
  if (value.length === 0) return undefined;
  return value.map((tool, i) => {
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(fn) || typeof fn.name !== "string" || !fn.name)
      malformed(`tools[${i}] must be {function: {name, description?, parameters?}}`);
    const description = optionalString(fn.description, `tools[${i}].function.description`);
    if (fn.parameters !== undefined && fn.parameters !== null && !isObject(fn.parameters))
      malformed(`tools[${i}].function.parameters must be a JSON Schema object`);
    return {
      name: fn.name,
      ...(description ? { description } : {}),
      ...(isObject(fn.parameters) ? { parameters: fn.parameters } : {}),
    };
  });
}

const NUMERIC_ANY = /google\.protobuf\.(Int64Value|UInt64Value|Int32Value|UInt32Value)$/;

/** Dapr's `parameters`: each protobuf Any (protojson form) unwrapped to its JSON value. */
function parameters(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) malformed("parameters must be an object");
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (isObject(v) && typeof v["@type"] === "string") {
      const inner = v.value;
      out[key] =
        NUMERIC_ANY.test(v["@type"]) && typeof inner === "string" && /^-?\d+$/.test(inner)
          ? Number(inner)
          : inner;
    } else out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function provider(ctx: ApiContext, name: string): ConversationProvider {
  if (!name || !ctx.runtime.has("conversation", name))
    throw apiError("CONVERSATION_NOT_FOUND", { name });
  return ctx.runtime.conversation(name);
}

function scrubOutputs(outputs: ConversationOutput[]): ConversationOutput[] {
  return outputs.map((o) => ({
    ...o,
    choices: o.choices.map((c) => ({
      ...c,
      message: { ...c.message, content: scrubPii(c.message.content) },
    })),
  }));
}

async function call(
  component: ConversationProvider,
  name: string,
  request: Parameters<ConversationProvider["converse"]>[0],
): Promise<ConversationOutput[]> {
  try {
    return (await component.converse(request)).outputs;
  } catch (error) {
    throw fromComponentError("conversation", error, { name });
  }
}

/** ConverseAlpha2: every input's messages in one call to the model. */
export async function converseAlpha2(
  ctx: ApiContext,
  request: ConverseAlpha2Input,
): Promise<ConverseAlpha2Result> {
  const { name } = request;
  const component = provider(ctx, name);
  const inputs = request.inputs;
  if (inputs !== undefined && inputs !== null && !Array.isArray(inputs))
    malformed("inputs must be an array");
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw apiError("CONVERSATION_MISSING_INPUTS", { name });
  const messages: ConversationMessage[] = [];
  inputs.forEach((input, i) => {
    if (!isObject(input)) malformed(`inputs[${i}] must be an object`);
    const scrub = optionalBool(pick(input, "scrubPii"), `inputs[${i}].scrubPii`);
    const list = input.messages;
    if (!Array.isArray(list)) malformed(`inputs[${i}].messages must be an array`);
    list.forEach((m, j) => {
      messages.push(message(m, `inputs[${i}].messages[${j}]`, scrub));
    });
  });
  if (messages.length === 0) throw apiError("CONVERSATION_MISSING_INPUTS", { name });
  const toolChoice = optionalString(pick(request as unknown as Json, "toolChoice"), "toolChoice");
  const requestTools = tools(request.tools);
  if (toolChoice && !["none", "auto", "required"].includes(toolChoice)) {
    if (!requestTools?.some((t) => t.name === toolChoice))
      throw apiError("CONVERSATION_INVALID_PARAMS", {
        name,
        error: `toolChoice ${toolChoice} is neither none, auto, required nor the name of a tool given`,
      });
  }
  if (request.responseFormat !== undefined && request.responseFormat !== null) {
    if (!isObject(request.responseFormat)) malformed("responseFormat must be an object");
  }
  const temperature = optionalNumber(request.temperature, "temperature");
  const params = parameters(request.parameters);
  const contextId = optionalString(request.contextId, "contextId");
  const outputs = await call(component, name, {
    messages,
    ...(requestTools ? { tools: requestTools } : {}),
    ...(toolChoice ? { toolChoice } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(isObject(request.responseFormat) ? { responseFormat: request.responseFormat } : {}),
    ...(params ? { parameters: params } : {}),
    metadata: request.metadata ?? {},
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const scrub = optionalBool(request.scrubPii, "scrubPii");
  return {
    ...(contextId ? { contextId } : {}),
    outputs: scrub ? scrubOutputs(outputs) : outputs,
  };
}

/** ConverseAlpha1 (deprecated in Dapr): one message per input, role `user` unless named. */
export async function converseAlpha1(
  ctx: ApiContext,
  request: ConverseAlpha1Input,
): Promise<ConverseAlpha1Result> {
  const { name } = request;
  const component = provider(ctx, name);
  const inputs = request.inputs;
  if (inputs !== undefined && inputs !== null && !Array.isArray(inputs))
    malformed("inputs must be an array");
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw apiError("CONVERSATION_MISSING_INPUTS", { name });
  const messages = inputs.map((input, i): ConversationMessage => {
    if (!isObject(input)) malformed(`inputs[${i}] must be an object`);
    const content = optionalString(input.content, `inputs[${i}].content`) ?? "";
    const role = optionalString(input.role, `inputs[${i}].role`) ?? "user";
    if (!(CONVERSATION_ROLES as readonly string[]).includes(role))
      throw apiError("CONVERSATION_INVALID_PARAMS", {
        name,
        error: `inputs[${i}].role ${role} is not one of ${CONVERSATION_ROLES.join(", ")}`,
      });
    const scrub = optionalBool(input.scrubPII ?? input.scrubPii, `inputs[${i}].scrubPII`);
    return { role: role as ConversationRole, content: [scrub ? scrubPii(content) : content] };
  });
  const temperature = optionalNumber(request.temperature, "temperature");
  const params = parameters(request.parameters);
  const contextId = optionalString(request.contextId, "contextID");
  const outputs = await call(component, name, {
    messages,
    ...(temperature !== undefined ? { temperature } : {}),
    ...(params ? { parameters: params } : {}),
    metadata: request.metadata ?? {},
    ...(request.signal ? { signal: request.signal } : {}),
  });
  const scrub = optionalBool(request.scrubPii, "scrubPII");
  const echoed = isObject(request.parameters) ? request.parameters : {};
  return {
    ...(contextId ? { contextId } : {}),
    outputs: (scrub ? scrubOutputs(outputs) : outputs).flatMap((o) =>
      o.choices.map((c) => ({ result: c.message.content, parameters: echoed })),
    ),
  };
}
