import { randomUUID } from "node:crypto";
import { encodeValue, type Metadata, parseTtlInSeconds, utf8 } from "@outrig/core";

// The one home of the CloudEvent envelope: library mode (Runtime#publish), the sidecar's publish
// APIs (api/pubsub.ts) and the outbox build it here; deliveries unwrap it with the same types.

export const CLOUDEVENT_CONTENT_TYPE = "application/cloudevents+json";
export const DEFAULT_EVENT_TYPE = "com.dapr.event.sent";

/** Media types Dapr treats as JSON: `application/json` and any `+json` suffix. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const base = baseType(contentType);
  return base === "application/json" || base.endsWith("+json");
}

/** Media types whose payload goes base64 into `data_base64`. */
export function isBinaryContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const base = baseType(contentType);
  return (
    base === "application/octet-stream" ||
    base === "application/protobuf" ||
    base === "application/x-protobuf" ||
    /^(image|audio|video)\//.test(base)
  );
}

export function baseType(contentType: string): string {
  return (contentType.split(";")[0] as string).trim().toLowerCase();
}

/** A W3C traceparent with a fresh trace id, sampled. */
export function newTraceparent(): string {
  // randomUUID draws from a cached pool of random bytes, far cheaper per call than randomBytes.
  const trace = randomUUID().replaceAll("-", "");
  const span = randomUUID().replaceAll("-", "").slice(0, 16);
  return `00-${trace}-${span}-01`;
}

export interface EnvelopeOptions {
  topic: string;
  pubsubName: string;
  /** The publishing app id (`source`). */
  source: string;
  data: Uint8Array;
  /** The request content type; default `text/plain`. */
  contentType?: string | undefined;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** `cloudevent.*` request metadata (id, source, type, subject, traceid, traceparent, tracestate). */
  overrides?: Record<string, string>;
  /** Set when the broker has no native TTL. */
  ttlInSeconds?: number | undefined;
}

/** Removes `cloudevent.*` keys from request metadata and returns them without the prefix. */
export function cloudEventOverrides(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(metadata)) {
    if (key.toLowerCase().startsWith("cloudevent.")) {
      out[key.slice("cloudevent.".length).toLowerCase()] = metadata[key] as string;
      delete metadata[key];
    }
  }
  return out;
}

/**
 * Builds the CloudEvents 1.0 envelope daprd builds on publish (JSON payloads parsed into `data`,
 * binary ones base64 in `data_base64`, anything else as a string), or completes one the publisher
 * sent as `application/cloudevents+json`.
 */
export function buildEnvelope(options: EnvelopeOptions): Record<string, unknown> {
  const contentType = options.contentType || "text/plain";
  const o = options.overrides ?? {};
  const traceparent = o.traceparent ?? o.traceid ?? options.traceparent ?? newTraceparent();
  const tracestate = o.tracestate ?? options.tracestate ?? "";

  if (baseType(contentType) === CLOUDEVENT_CONTENT_TYPE) {
    const parsed = JSON.parse(utf8(options.data)) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new SyntaxError("a cloudevents+json body must be a JSON object");
    }
    const event = parsed as Record<string, unknown>;
    event.id ??= o.id ?? randomUUID();
    event.source ??= o.source ?? "Dapr";
    event.type ??= o.type ?? DEFAULT_EVENT_TYPE;
    event.specversion ??= "1.0";
    event.topic = options.topic;
    event.pubsubname = options.pubsubName;
    event.traceid = traceparent;
    event.traceparent = traceparent;
    event.tracestate = tracestate;
    return event;
  }

  const event: Record<string, unknown> = {
    specversion: "1.0",
    id: o.id ?? randomUUID(),
    source: o.source ?? options.source,
    type: o.type ?? DEFAULT_EVENT_TYPE,
    datacontenttype: contentType,
    topic: options.topic,
    pubsubname: options.pubsubName,
    traceid: traceparent,
    traceparent,
    tracestate,
    time: new Date().toISOString(),
  };
  if (o.subject) event.subject = o.subject;
  if (options.ttlInSeconds !== undefined && options.ttlInSeconds > 0) {
    event.expiration = new Date(Date.now() + options.ttlInSeconds * 1000).toISOString();
  }
  if (isJsonContentType(contentType)) {
    const text = utf8(options.data);
    try {
      event.data = JSON.parse(text);
    } catch {
      event.data = text;
    }
  } else if (isBinaryContentType(contentType)) {
    event.data_base64 = Buffer.from(options.data).toString("base64");
  } else {
    event.data = utf8(options.data);
  }
  return event;
}

/** One publish as the app asked for it, before it becomes the broker's message. */
export interface PublishInput {
  topic: string;
  pubsubName: string;
  /** The publishing app id (`source`). */
  source: string;
  data: Uint8Array;
  contentType: string;
  /** Request metadata; its `cloudevent.*` keys become envelope overrides and are taken out. */
  metadata: Metadata;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  /** Send the bytes as they are (`rawPayload`), without an envelope. */
  raw: boolean;
  /** The broker expires messages itself (MESSAGE_TTL), so the envelope gets no `expiration`. */
  brokerTtl: boolean;
}

/** What the pub/sub component is given to publish. */
export interface BrokerMessage {
  data: Uint8Array;
  contentType: string;
  metadata: Metadata;
}

/**
 * Why a publish could not be wrapped: `metadata` when its `ttlInSeconds` is invalid, `event`
 * when the envelope cannot be built (a cloudevents+json body that is not a JSON object). The
 * original error is the cause.
 */
export class EnvelopeError extends Error {
  readonly part: "metadata" | "event";
  constructor(part: "metadata" | "event", cause: unknown) {
    super((cause as Error).message, { cause });
    this.part = part;
  }
}

/** The broker message for a publish: the CloudEvent envelope as JSON, or the raw bytes. */
export function brokerMessage(input: PublishInput): BrokerMessage {
  const metadata = { ...input.metadata };
  const overrides = cloudEventOverrides(metadata);
  if (input.raw) return { data: input.data, contentType: input.contentType, metadata };
  let ttlInSeconds: number | undefined;
  try {
    ttlInSeconds = input.brokerTtl ? undefined : parseTtlInSeconds(metadata);
  } catch (error) {
    throw new EnvelopeError("metadata", error);
  }
  try {
    const envelope = buildEnvelope({
      topic: input.topic,
      pubsubName: input.pubsubName,
      source: input.source,
      data: input.data,
      contentType: input.contentType,
      traceparent: input.traceparent,
      tracestate: input.tracestate,
      overrides,
      ttlInSeconds,
    });
    return { data: encodeValue(envelope), contentType: CLOUDEVENT_CONTENT_TYPE, metadata };
  } catch (error) {
    throw new EnvelopeError("event", error);
  }
}

/** Wraps bytes received on a raw-payload subscription the way daprd does. */
export function wrapRawPayload(
  data: Uint8Array,
  topic: string,
  pubsubName: string,
): Record<string, unknown> {
  // daprd builds this envelope as a Go map, and Go's JSON encoder writes map keys sorted: the
  // same order here, so the JSON an app reads has `data_base64` first, as from daprd.
  return {
    data_base64: Buffer.from(data).toString("base64"),
    datacontenttype: "application/octet-stream",
    id: randomUUID(),
    pubsubname: pubsubName,
    source: pubsubName,
    specversion: "1.0",
    time: new Date().toISOString(),
    topic,
    type: DEFAULT_EVENT_TYPE,
  };
}

/**
 * A JSON value with every object's keys in sorted order, as Go's encoder writes a decoded map
 * (daprd re-encodes each bulk entry's CloudEvent that way). Keys that look like array indexes
 * stay first, a JavaScript object rule, where Go would sort them as text.
 */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) out[key] = sortedKeys(record[key]);
  return out;
}
