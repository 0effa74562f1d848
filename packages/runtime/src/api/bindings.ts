import { encodeValue, isOutputBinding, type Metadata } from "@outrig/core";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";

export interface InvokeBindingRequest {
  name: string;
  operation?: unknown;
  /** A JS value (sent as its JSON) or bytes (sent verbatim); absent sends no data. */
  data?: unknown;
  metadata?: Metadata;
}

export interface InvokeBindingResult {
  /** Absent or empty when the binding answered nothing. */
  data?: Uint8Array;
  contentType?: string;
  metadata?: Metadata;
}

export async function invokeBinding(
  ctx: ApiContext,
  request: InvokeBindingRequest,
): Promise<InvokeBindingResult> {
  const { name } = request;
  const binding = ctx.runtime.has("bindings", name) ? ctx.runtime.binding(name) : undefined;
  if (!binding || !isOutputBinding(binding)) {
    throw apiError("BINDING_INVOKE_OUTPUT", {
      name,
      error: `couldn't find output binding ${name}`,
    });
  }
  try {
    const result = await (binding as Required<typeof binding>).invoke({
      operation: typeof request.operation === "string" ? request.operation : "",
      ...(request.data === undefined ? {} : { data: encodeValue(request.data) }),
      metadata: request.metadata ?? {},
    });
    return {
      ...(result.data && result.data.byteLength > 0 ? { data: result.data } : {}),
      ...(result.contentType ? { contentType: result.contentType } : {}),
      ...(result.metadata ? { metadata: result.metadata } : {}),
    };
  } catch (error) {
    throw fromComponentError("outputBinding", error, { name });
  }
}
