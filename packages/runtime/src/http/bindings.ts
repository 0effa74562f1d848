import { invokeBinding } from "../api/bindings.ts";
import { parseJsonAs } from "../api/json.ts";
import type { Handler } from "./context.ts";
import { field, metadataHeaders, readBody, stringMap } from "./io.ts";

// Decoding and encoding only: the binding rules live in ../api/bindings.ts.

export const invokeOutputBinding: Handler = async (ctx, req, res, params) => {
  const bytes = await readBody(req);
  const body = bytes.byteLength === 0 ? {} : parseJsonAs(bytes);
  const metadata = stringMap(field(body, "metadata"));
  for (const h of ["traceparent", "tracestate", "baggage"]) {
    const v = req.headers[h];
    if (typeof v === "string") metadata[h] = v;
  }
  const result = await invokeBinding(ctx, {
    name: params.name as string,
    operation: field(body, "operation"),
    data: field(body, "data"),
    metadata,
  });
  if (!result.data) {
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
};
