import { ComponentError, getMetadata, type Metadata, parseTtlInSeconds } from "@outrig/core";
import type { MessageProperties, Options } from "amqplib";

/** Request metadata that configures the AMQP message instead of travelling as a header. */
const RESERVED = new Set([
  "ttlinseconds",
  "priority",
  "routingkey",
  "contenttype",
  "messageid",
  "correlationid",
  "type",
]);

export interface PublishSettings {
  routingKey: string;
  options: Options.Publish;
}

/**
 * Maps a publish request onto AMQP properties: `ttlInSeconds` becomes the per-message expiration,
 * `priority`, `messageID`, `correlationID` and `type` their properties, everything else a header
 * (so trace context and app metadata reach the subscriber).
 */
export function publishSettings(
  metadata: Metadata | undefined,
  contentType: string | undefined,
  defaults: { deliveryMode: number; ttlInSeconds: number | undefined },
): PublishSettings {
  const ttl = parseTtlInSeconds(metadata) ?? defaults.ttlInSeconds;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (!RESERVED.has(k.toLowerCase())) headers[k] = v;
  }
  const options: Options.Publish = { headers };
  if (ttl !== undefined && ttl > 0) options.expiration = String(ttl * 1000);
  if (defaults.deliveryMode > 0) options.deliveryMode = defaults.deliveryMode;
  const priority = getMetadata(metadata, "priority");
  if (priority !== undefined && priority !== "") {
    const n = Number(priority);
    if (!Number.isInteger(n) || n < 0 || n > 255) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `priority must be an integer 0-255, got ${JSON.stringify(priority)}`,
        { component: "pubsub.rabbitmq" },
      );
    }
    options.priority = n;
  }
  const type = contentType ?? getMetadata(metadata, "contentType");
  if (type) options.contentType = type;
  const messageId = getMetadata(metadata, "messageID");
  if (messageId) options.messageId = messageId;
  const correlationId = getMetadata(metadata, "correlationID");
  if (correlationId) options.correlationId = correlationId;
  const amqpType = getMetadata(metadata, "type");
  if (amqpType) options.type = amqpType;
  return { routingKey: getMetadata(metadata, "routingKey") ?? "", options };
}

/** The delivered message's headers and identifying properties as metadata. */
export function toMetadata(props: MessageProperties): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries((props.headers ?? {}) as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    out[k] = Buffer.isBuffer(v)
      ? v.toString("utf8")
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);
  }
  if (props.messageId) out.messageID = String(props.messageId);
  if (props.correlationId) out.correlationID = String(props.correlationId);
  if (props.type) out.type = String(props.type);
  return out;
}
