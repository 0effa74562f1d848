import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiContext } from "../api/context.ts";
import { httpStatusOfGrpc } from "../api/errors.ts";
import { type InvokeTarget, invocationBudgetMs } from "../api/invoke.ts";
import { AppStatusError, invokeGrpcTarget } from "../grpc/app-invoke.ts";
import { readBody, sendJson } from "./io.ts";

/** The verbs of `common.v1.HTTPExtension.Verb`; any other is refused by the app channel. */
const VERBS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

/**
 * An HTTP invocation of an app served over gRPC, translated as daprd does: AppCallback.OnInvoke
 * with the method, the body as `data` bytes, its content type, the verb and query string in
 * `http_extension`, and the request's headers as metadata. The app's data and content type come
 * back as the body; a failure status as its HTTP equivalent with the google.rpc.Status as JSON.
 */
export async function invokeGrpcAppOverHttp(
  ctx: ApiContext,
  target: InvokeTarget,
  req: IncomingMessage,
  res: ServerResponse,
  appId: string,
  method: string,
  query: string,
  headers: Record<string, string | string[]>,
): Promise<void> {
  const verb = req.method ?? "GET";
  const body = verb === "GET" || verb === "HEAD" ? Buffer.alloc(0) : await readBody(req);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== "content-length" && k !== "content-type")
      metadata[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  const abort = new AbortController();
  const cancel = (): void => {
    if (!res.writableFinished) abort.abort();
  };
  res.once("close", cancel);
  try {
    const answer = await invokeGrpcTarget(
      ctx,
      target,
      appId,
      {
        method: method.replace(/^\/+/, ""),
        data: { type_url: "", value: body },
        contentType: req.headers["content-type"] ?? "",
        httpExtension: {
          verb: VERBS.has(verb) ? (verb as "GET") : "NONE",
          querystring: query.startsWith("?") ? query.slice(1) : query,
        },
      },
      metadata,
      invocationBudgetMs(ctx, appId),
      abort.signal,
    );
    const data = answer.data?.value ?? Buffer.alloc(0);
    res.writeHead(200, {
      ...(answer.contentType ? { "content-type": answer.contentType } : {}),
      "content-length": data.length,
    });
    res.end(data);
  } catch (error) {
    if (!(error instanceof AppStatusError)) throw error;
    sendJson(res, httpStatusOfGrpc(error.code), {
      code: error.code,
      message: error.details,
      details: [],
    });
  } finally {
    res.off("close", cancel);
  }
}
