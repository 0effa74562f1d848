import {
  type BulkPublishEntry,
  bulkPublishOneByOne,
  ComponentError,
  encodeValue,
  type Metadata,
  type PubSub,
  toBytes,
} from "@outrig/core";
import {
  type BrokerMessage,
  baseType,
  brokerMessage,
  CLOUDEVENT_CONTENT_TYPE,
  EnvelopeError,
  isJsonContentType,
} from "../messaging/cloudevent.ts";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";
import { assertJsonDepth } from "./json.ts";

export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

export interface PublishRequest {
  pubsub: string | undefined;
  topic: string | undefined;
  data: Uint8Array;
  /** Default `text/plain`. */
  contentType?: string | undefined;
  metadata?: Metadata;
  trace?: TraceContext;
}

export interface BulkPublishEntryInput {
  entryId: unknown;
  /** A JS value, or a string; see {@link eventBytes}. */
  event: unknown;
  contentType?: unknown;
  metadata?: Metadata;
}

export interface BulkPublishRequest {
  pubsub: string | undefined;
  topic: string | undefined;
  entries: readonly BulkPublishEntryInput[];
  metadata?: Metadata;
  trace?: TraceContext;
}

export interface BulkPublishResult {
  /** Empty when every entry was published. */
  failedEntries: { entryId: string; error: string }[];
}

/** The pub/sub `name`, or the error Dapr answers for a missing name, component or topic. */
export function requirePubsub(
  ctx: ApiContext,
  name: string | undefined,
  topic: string | undefined,
): PubSub {
  if (ctx.runtime.names("pubsub").length === 0) throw apiError("PUBSUB_NOT_CONFIGURED");
  if (!name) throw apiError("PUBSUB_EMPTY");
  if (!ctx.runtime.has("pubsub", name)) throw apiError("PUBSUB_NOT_FOUND", { pubsub: name });
  if (!topic) throw apiError("PUBSUB_TOPIC_EMPTY", { pubsub: name });
  return ctx.runtime.pubsub(name);
}

/** `rawPayload` must be a boolean when present. */
function rawPayload(metadata: Metadata): boolean {
  const raw = Object.entries(metadata).find(([k]) => k.toLowerCase() === "rawpayload")?.[1];
  if (raw === undefined || raw === "") return false;
  const v = raw.trim().toLowerCase();
  if (["true", "1", "t", "yes", "y", "on"].includes(v)) return true;
  if (["false", "0", "f", "no", "n", "off"].includes(v)) return false;
  throw apiError("PUBSUB_REQUEST_METADATA", {
    detail: `rawPayload value ${JSON.stringify(raw)} is not a boolean`,
  });
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
  trace: TraceContext,
): BrokerMessage {
  const raw = rawPayload(metadata);
  // The envelope parses JSON data and writes it back; too deep a document would overflow there.
  if (!raw && isJsonContentType(contentType)) assertJsonDepth(data);
  try {
    return brokerMessage({
      topic,
      pubsubName,
      source: ctx.appId,
      data,
      contentType,
      metadata,
      traceparent: trace.traceparent,
      tracestate: trace.tracestate,
      raw,
      brokerTtl: pubsub.capabilities.has("MESSAGE_TTL"),
    });
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    throw error.part === "metadata"
      ? apiError("PUBSUB_REQUEST_METADATA", { detail: error.message })
      : apiError("PUBSUB_CLOUD_EVENTS_SER", { error: error.message });
  }
}

/**
 * A bulk entry's event as bytes: a string is the payload itself unless the content type says JSON
 * (then it is a JSON string); any other value is its JSON.
 */
function eventBytes(event: unknown, contentType: string): Uint8Array {
  if (event instanceof Uint8Array) return event;
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

export async function publish(ctx: ApiContext, request: PublishRequest): Promise<void> {
  const pubsub = requirePubsub(ctx, request.pubsub, request.topic);
  const name = request.pubsub as string;
  const topic = request.topic as string;
  const message = prepare(
    ctx,
    pubsub,
    name,
    topic,
    request.data,
    request.contentType || "text/plain",
    request.metadata ?? {},
    request.trace ?? {},
  );
  try {
    await pubsub.publish({ topic, ...message });
  } catch (error) {
    throw fromComponentError("publish", error, { topic, pubsub: name });
  }
}

export async function bulkPublish(
  ctx: ApiContext,
  request: BulkPublishRequest,
): Promise<BulkPublishResult> {
  const pubsub = requirePubsub(ctx, request.pubsub, request.topic);
  const name = request.pubsub as string;
  const topic = request.topic as string;
  const requestMetadata = request.metadata ?? {};
  const ids = new Set<string>();
  const prepared: BulkPublishEntry[] = [];
  for (const entry of request.entries) {
    const { entryId } = entry;
    if (typeof entryId !== "string" || entryId === "") {
      throw apiError("PUBSUB_EVENTS_SER", {
        detail: "entryId is required and must be a non-empty string",
      });
    }
    if (ids.has(entryId)) {
      throw apiError("PUBSUB_EVENTS_SER", { detail: `entryId ${entryId} is duplicated` });
    }
    ids.add(entryId);
    const contentType =
      (typeof entry.contentType === "string" && entry.contentType) || "text/plain";
    const metadata = { ...requestMetadata, ...entry.metadata };
    const message = prepare(
      ctx,
      pubsub,
      name,
      topic,
      eventBytes(entry.event, contentType),
      contentType,
      metadata,
      request.trace ?? {},
    );
    prepared.push({
      entryId,
      event: message.data,
      contentType: message.contentType,
      metadata: message.metadata,
    });
  }
  try {
    const bulk = { topic, entries: prepared, metadata: requestMetadata };
    const result = pubsub.capabilities.has("BULK_PUBSUB")
      ? await pubsub.bulkPublish(bulk)
      : await bulkPublishOneByOne(pubsub, bulk);
    return { failedEntries: result.failedEntries };
  } catch (error) {
    if (!(error instanceof ComponentError))
      ctx.logger.warn("bulk publish failed", { error: (error as Error).message });
    return {
      failedEntries: prepared.map((p) => ({ entryId: p.entryId, error: (error as Error).message })),
    };
  }
}
