import {
  type BulkPublishEntry,
  bulkPublishOneByOne,
  ComponentError,
  encodeValue,
  type Metadata,
  type PubSub,
  parseTtlInSeconds,
  toBytes,
} from "@outrig/core";
import {
  baseType,
  buildEnvelope,
  CLOUDEVENT_CONTENT_TYPE,
  isJsonContentType,
} from "../cloudevents.ts";
import { cloudEventOverrides } from "../runtime.ts";
import type { ApiContext, Handler } from "./context.ts";
import { type ApiError, apiError, fromComponentError } from "./errors.ts";
import {
  field,
  queryMetadata,
  readBody,
  sendError,
  sendJson,
  sendNoContent,
  stringMap,
} from "./io.ts";

function pubsubOf(
  ctx: ApiContext,
  name: string | undefined,
  topic: string | undefined,
): PubSub | ApiError {
  if (ctx.runtime.names("pubsub").length === 0) {
    return apiError(400, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured");
  }
  if (!name) return apiError(404, "ERR_PUBSUB_EMPTY", "pubsub name is empty");
  if (!ctx.runtime.has("pubsub", name))
    return apiError(404, "ERR_PUBSUB_NOT_FOUND", `pubsub ${name} is not found`);
  if (!topic) return apiError(404, "ERR_TOPIC_NAME_EMPTY", `topic is empty in pubsub ${name}`);
  return ctx.runtime.pubsub(name);
}

function isError(v: unknown): v is ApiError {
  return typeof (v as ApiError).errorCode === "string";
}

/** `rawPayload` must be a boolean when present. */
function rawPayload(metadata: Metadata): boolean | ApiError {
  const raw = Object.entries(metadata).find(([k]) => k.toLowerCase() === "rawpayload")?.[1];
  if (raw === undefined || raw === "") return false;
  const v = raw.trim().toLowerCase();
  if (["true", "1", "t", "yes", "y", "on"].includes(v)) return true;
  if (["false", "0", "f", "no", "n", "off"].includes(v)) return false;
  return apiError(
    400,
    "ERR_PUBSUB_REQUEST_METADATA",
    `rawPayload value ${JSON.stringify(raw)} is not a boolean`,
  );
}

/** Turns a payload into the message bytes and content type the broker gets. */
function prepare(
  ctx: ApiContext,
  pubsub: PubSub,
  pubsubName: string,
  topic: string,
  data: Uint8Array,
  contentType: string,
  metadata: Metadata,
  trace: { traceparent?: string; tracestate?: string },
): { data: Uint8Array; contentType: string; metadata: Metadata } | ApiError {
  const raw = rawPayload(metadata);
  if (isError(raw)) return raw;
  const overrides = cloudEventOverrides(metadata);
  if (raw) return { data, contentType, metadata };
  let ttl: number | undefined;
  try {
    ttl = pubsub.capabilities.has("MESSAGE_TTL") ? undefined : parseTtlInSeconds(metadata);
  } catch (error) {
    return apiError(400, "ERR_PUBSUB_REQUEST_METADATA", (error as Error).message);
  }
  try {
    const envelope = buildEnvelope({
      topic,
      pubsubName,
      source: ctx.appId,
      data,
      contentType,
      traceparent: trace.traceparent,
      tracestate: trace.tracestate,
      overrides,
      ttlInSeconds: ttl,
    });
    return { data: encodeValue(envelope), contentType: CLOUDEVENT_CONTENT_TYPE, metadata };
  } catch (error) {
    return apiError(
      500,
      "ERR_PUBSUB_CLOUD_EVENTS_SER",
      `cannot create cloudevent: ${(error as Error).message}`,
    );
  }
}

function traceOf(headers: Record<string, string | string[] | undefined>): {
  traceparent?: string;
  tracestate?: string;
} {
  const tp = headers.traceparent;
  const ts = headers.tracestate;
  return {
    ...(typeof tp === "string" ? { traceparent: tp } : {}),
    ...(typeof ts === "string" ? { tracestate: ts } : {}),
  };
}

export const publish: Handler = async (ctx, req, res, params, query) => {
  const name = params.pubsub;
  const topic = params["*"];
  const pubsub = pubsubOf(ctx, name, topic);
  if (isError(pubsub)) return sendError(res, pubsub);
  const body = await readBody(req);
  const contentType = req.headers["content-type"] || "text/plain";
  const message = prepare(
    ctx,
    pubsub,
    name as string,
    topic as string,
    body,
    contentType,
    queryMetadata(query),
    traceOf(req.headers),
  );
  if (isError(message)) return sendError(res, message);
  try {
    await pubsub.publish({ topic: topic as string, ...message });
  } catch (error) {
    return sendError(
      res,
      fromComponentError(
        "publish",
        error,
        `error when publish to topic ${topic} in pubsub ${name}`,
      ),
    );
  }
  sendNoContent(res);
};

/** The `publish` route without a topic (`/v1.0/publish/{pubsub}`). */
export const publishWithoutTopic: Handler = (ctx, _req, res, params) => {
  const found = pubsubOf(ctx, params.pubsub, undefined);
  if (isError(found)) sendError(res, found);
};

export const publishWithoutName: Handler = (ctx, _req, res) => {
  const found = pubsubOf(ctx, undefined, undefined);
  if (isError(found)) sendError(res, found);
};

function eventBytes(event: unknown, contentType: string): Uint8Array {
  if (
    typeof event === "string" &&
    !isJsonContentType(contentType) &&
    baseType(contentType) !== CLOUDEVENT_CONTENT_TYPE
  ) {
    return toBytes(event);
  }
  if (typeof event === "string" && baseType(contentType) === CLOUDEVENT_CONTENT_TYPE)
    return toBytes(event);
  return encodeValue(event);
}

export const bulkPublish: Handler = async (ctx, req, res, params, query) => {
  const name = params.pubsub;
  const topic = params["*"];
  const pubsub = pubsubOf(ctx, name, topic);
  if (isError(pubsub)) return sendError(res, pubsub);
  let entries: unknown;
  try {
    entries = JSON.parse((await readBody(req)).toString("utf8"));
  } catch (error) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_PUBSUB_EVENTS_SER",
        `error when unmarshaling the request for topic ${topic}: ${(error as Error).message}`,
      ),
    );
  }
  if (!Array.isArray(entries)) {
    return sendError(
      res,
      apiError(
        400,
        "ERR_PUBSUB_EVENTS_SER",
        `error when unmarshaling the request for topic ${topic}: expected an array of entries`,
      ),
    );
  }
  const requestMetadata = queryMetadata(query);
  const trace = traceOf(req.headers);
  const ids = new Set<string>();
  const prepared: BulkPublishEntry[] = [];
  for (const entry of entries) {
    const entryId = field(entry, "entryId");
    if (typeof entryId !== "string" || entryId === "") {
      return sendError(
        res,
        apiError(
          400,
          "ERR_PUBSUB_EVENTS_SER",
          "entryId is required and must be a non-empty string",
        ),
      );
    }
    if (ids.has(entryId)) {
      return sendError(
        res,
        apiError(400, "ERR_PUBSUB_EVENTS_SER", `entryId ${entryId} is duplicated`),
      );
    }
    ids.add(entryId);
    const contentType = (field(entry, "contentType") as string | undefined) || "text/plain";
    const metadata = { ...requestMetadata, ...stringMap(field(entry, "metadata")) };
    const message = prepare(
      ctx,
      pubsub,
      name as string,
      topic as string,
      eventBytes(field(entry, "event"), contentType),
      contentType,
      metadata,
      trace,
    );
    if (isError(message)) return sendError(res, message);
    prepared.push({
      entryId,
      event: message.data,
      contentType: message.contentType,
      metadata: message.metadata,
    });
  }
  let failedEntries: { entryId: string; error: string }[];
  try {
    const request = { topic: topic as string, entries: prepared, metadata: requestMetadata };
    const result = pubsub.capabilities.has("BULK_PUBSUB")
      ? await pubsub.bulkPublish(request)
      : await bulkPublishOneByOne(pubsub, request);
    failedEntries = result.failedEntries;
  } catch (error) {
    failedEntries = prepared.map((p) => ({ entryId: p.entryId, error: (error as Error).message }));
    if (!(error instanceof ComponentError))
      ctx.logger.warn("bulk publish failed", { error: (error as Error).message });
  }
  if (failedEntries.length === 0) return sendNoContent(res);
  sendJson(res, 500, { failedEntries, errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE" });
};
