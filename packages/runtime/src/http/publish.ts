import type { IncomingMessage } from "node:http";
import { API_ERRORS, apiError } from "../api/errors.ts";
import { parseJsonAs } from "../api/json.ts";
import {
  bulkPublish as apiBulkPublish,
  publish as apiPublish,
  requirePubsub,
} from "../api/pubsub.ts";
import type { Handler } from "./context.ts";
import { field, queryMetadata, readBody, sendJson, sendNoContent, stringMap } from "./io.ts";

// Decoding and encoding only: every pub/sub rule lives in ../api/pubsub.ts.

function traceOf(req: IncomingMessage): { traceparent?: string; tracestate?: string } {
  const tp = req.headers.traceparent;
  const ts = req.headers.tracestate;
  return {
    ...(typeof tp === "string" ? { traceparent: tp } : {}),
    ...(typeof ts === "string" ? { tracestate: ts } : {}),
  };
}

export const publish: Handler = async (ctx, req, res, params, query) => {
  requirePubsub(ctx, params.pubsub, params["*"]);
  await apiPublish(ctx, {
    pubsub: params.pubsub,
    topic: params["*"],
    data: await readBody(req),
    contentType: req.headers["content-type"],
    metadata: queryMetadata(query),
    trace: traceOf(req),
  });
  sendNoContent(res);
};

/** The `publish` route without a topic (`/v1.0/publish/{pubsub}`): always an error. */
export const publishWithoutTopic: Handler = (ctx, _req, _res, params) => {
  requirePubsub(ctx, params.pubsub, undefined);
};

export const publishWithoutName: Handler = (ctx) => {
  requirePubsub(ctx, undefined, undefined);
};

export const bulkPublish: Handler = async (ctx, req, res, params, query) => {
  const topic = params["*"];
  requirePubsub(ctx, params.pubsub, topic);
  const entries = parseJsonAs(await readBody(req), "PUBSUB_UNMARSHAL_EVENTS", {
    topic: topic ?? "",
  });
  if (!Array.isArray(entries)) {
    throw apiError("PUBSUB_UNMARSHAL_EVENTS", { topic, detail: "expected an array of entries" });
  }
  const result = await apiBulkPublish(ctx, {
    pubsub: params.pubsub,
    topic,
    entries: entries.map((entry) => ({
      entryId: field(entry, "entryId"),
      event: field(entry, "event"),
      contentType: field(entry, "contentType"),
      metadata: stringMap(field(entry, "metadata")),
    })),
    metadata: queryMetadata(query),
    trace: traceOf(req),
  });
  if (result.failedEntries.length === 0) return sendNoContent(res);
  const failed = API_ERRORS.PUBSUB_PUBLISH_MESSAGE;
  sendJson(res, failed.http, { failedEntries: result.failedEntries, errorCode: failed.errorCode });
};
