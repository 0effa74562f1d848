import type * as grpc from "@grpc/grpc-js";
import type { ConversationOutput } from "@outrig/core";
import protobuf from "protobufjs";
import type { ApiContext } from "../api/context.ts";
import { converseAlpha1, converseAlpha2 } from "../api/conversation.ts";
import type { ConversationRequest__Output } from "./generated/dapr/proto/runtime/v1/ConversationRequest.ts";
import type { ConversationRequestAlpha2__Output } from "./generated/dapr/proto/runtime/v1/ConversationRequestAlpha2.ts";
import type { ConversationResponse } from "./generated/dapr/proto/runtime/v1/ConversationResponse.ts";
import type { ConversationResponseAlpha2 } from "./generated/dapr/proto/runtime/v1/ConversationResponseAlpha2.ts";
import type { ConversationResultAlpha2 } from "./generated/dapr/proto/runtime/v1/ConversationResultAlpha2.ts";
import type { Any__Output } from "./generated/google/protobuf/Any.ts";
import type { Struct__Output } from "./generated/google/protobuf/Struct.ts";
import type { Value__Output } from "./generated/google/protobuf/Value.ts";

// Decoding and encoding only: the conversation rules live in ../api/conversation.ts.

/** google.protobuf.Value as plain JSON (its `kind` says which field is set). */
function valueJson(v: Value__Output): unknown {
  switch (v.kind) {
    case "numberValue":
      return v.numberValue;
    case "stringValue":
      return v.stringValue;
    case "boolValue":
      return v.boolValue;
    case "structValue":
      return v.structValue ? structJson(v.structValue) : {};
    case "listValue":
      return (v.listValue?.values ?? []).map(valueJson);
    default:
      return null;
  }
}

function structJson(s: Struct__Output | null | undefined): Record<string, unknown> | undefined {
  if (!s) return undefined;
  return Object.fromEntries(Object.entries(s.fields ?? {}).map(([k, v]) => [k, valueJson(v)]));
}

let wrappers: protobuf.Root | undefined;

/** A protobuf Any in protojson form: a well-known wrapper's value, else its bytes as base64. */
function anyJson(any: Any__Output): Record<string, unknown> {
  wrappers ??= protobuf.Root.fromJSON(
    protobuf.common.get("google/protobuf/wrappers.proto") as protobuf.INamespace,
  );
  const typeName = any.type_url.slice(any.type_url.lastIndexOf("/") + 1);
  const type = wrappers.lookup(typeName);
  if (type instanceof protobuf.Type) {
    const decoded = type.toObject(type.decode(any.value), { longs: String, defaults: true });
    return { "@type": any.type_url, value: decoded.value };
  }
  return { "@type": any.type_url, value: Buffer.from(any.value).toString("base64") };
}

function parametersJson(p: Record<string, Any__Output>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, anyJson(v)]));
}

/** Aborted when the caller cancels the call. */
function callerSignal(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const abort = new AbortController();
  call.once("cancelled", () => abort.abort(new Error("the caller cancelled the call")));
  return abort.signal;
}

function outputProto(o: ConversationOutput): ConversationResultAlpha2 {
  return {
    choices: o.choices.map((c) => ({
      finishReason: c.finishReason,
      index: c.index,
      message: {
        content: c.message.content,
        toolCalls: (c.message.toolCalls ?? []).map((t) => ({
          ...(t.id ? { id: t.id } : {}),
          function: { name: t.name, arguments: t.arguments },
        })),
      },
    })),
    ...(o.model ? { model: o.model } : {}),
    ...(o.usage ? { usage: o.usage } : {}),
  };
}

export async function converseAlpha2Method(
  ctx: ApiContext,
  r: ConversationRequestAlpha2__Output,
  call: grpc.ServerUnaryCall<unknown, unknown>,
): Promise<ConversationResponseAlpha2> {
  const result = await converseAlpha2(ctx, {
    name: r.name,
    contextId: r.contextId,
    inputs: r.inputs.map((input) => ({
      scrubPii: input.scrubPii,
      messages: input.messages,
    })),
    parameters: parametersJson(r.parameters),
    metadata: r.metadata,
    scrubPii: r.scrubPii,
    temperature: r.temperature,
    tools: r.tools.map((t) => ({
      function: t.function && {
        name: t.function.name,
        description: t.function.description,
        parameters: structJson(t.function.parameters),
      },
    })),
    toolChoice: r.toolChoice,
    responseFormat: structJson(r.responseFormat),
    signal: callerSignal(call),
  });
  return {
    ...(result.contextId ? { contextId: result.contextId } : {}),
    outputs: result.outputs.map(outputProto),
  };
}

export async function converseAlpha1Method(
  ctx: ApiContext,
  r: ConversationRequest__Output,
  call: grpc.ServerUnaryCall<unknown, unknown>,
): Promise<ConversationResponse> {
  const result = await converseAlpha1(ctx, {
    name: r.name,
    contextId: r.contextID,
    inputs: r.inputs.map((i) => ({ content: i.content, role: i.role, scrubPII: i.scrubPII })),
    parameters: parametersJson(r.parameters),
    metadata: r.metadata,
    scrubPii: r.scrubPII,
    temperature: r.temperature,
    signal: callerSignal(call),
  });
  return {
    ...(result.contextId ? { contextID: result.contextId } : {}),
    // As Dapr: each result carries the request's parameters back, as they came.
    outputs: result.outputs.map((o) => ({ result: o.result, parameters: r.parameters })),
  };
}
