import { encodeValue, isOutputBinding } from "@outrig/core";
import type { Handler } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";
import { field, metadataHeaders, readBody, sendError, stringMap } from "./io.ts";

export const invokeOutputBinding: Handler = async (ctx, req, res, params) => {
  const name = params.name as string;
  let body: unknown;
  try {
    const text = (await readBody(req)).toString("utf8");
    body = text ? JSON.parse(text) : {};
  } catch (error) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_MALFORMED_REQUEST",
        `failed deserializing HTTP body: ${(error as Error).message}`,
      ),
    );
  }
  if (!ctx.runtime.has("bindings", name) || !isOutputBinding(ctx.runtime.binding(name))) {
    return sendError(
      res,
      apiError(
        500,
        "ERR_INVOKE_OUTPUT_BINDING",
        `error invoking output binding ${name}: couldn't find output binding ${name}`,
      ),
    );
  }
  const binding = ctx.runtime.binding(name);
  const data = field(body, "data");
  const metadata = stringMap(field(body, "metadata"));
  for (const h of ["traceparent", "tracestate", "baggage"]) {
    const v = req.headers[h];
    if (typeof v === "string") metadata[h] = v;
  }
  const operation = field(body, "operation");
  try {
    const result = await (binding as Required<typeof binding>).invoke({
      operation: typeof operation === "string" ? operation : "",
      ...(data === undefined ? {} : { data: encodeValue(data) }),
      metadata,
    });
    if (!result.data || result.data.byteLength === 0) {
      res.writeHead(204, metadataHeaders(result.metadata));
      res.end();
      return;
    }
    res.writeHead(200, {
      "content-type": result.contentType ?? "application/json",
      "content-length": result.data.byteLength,
      ...metadataHeaders(result.metadata),
    });
    res.end(result.data);
  } catch (error) {
    sendError(
      res,
      fromComponentError("outputBinding", error, `error invoking output binding ${name}`),
    );
  }
};
