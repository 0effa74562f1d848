import { type Metadata, parseTtlInSeconds } from "@outrig/core";
import type { IHeaders, KafkaMessage } from "kafkajs";

const CONTENT_TYPE_HEADER = "content-type";

export interface OutgoingMessage {
  key: string | null;
  value: Buffer;
  headers: IHeaders;
}

/**
 * Dapr's mapping: `partitionKey` (or `__key`) is the message key, other metadata are headers;
 * `ttlInSeconds` is validated and dropped (Kafka has no per-message expiry). One pass over the
 * metadata, since bulk publish runs this for every entry.
 */
export function toKafkaMessage(
  data: Uint8Array,
  metadata: Metadata | undefined,
  contentType: string | undefined,
): OutgoingMessage {
  const headers: IHeaders = {};
  let partitionKey: string | undefined;
  let rawKey: string | undefined;
  if (metadata) {
    for (const k in metadata) {
      const v = metadata[k] as string;
      switch (k.toLowerCase()) {
        case "partitionkey":
          partitionKey = v;
          break;
        case "__key":
          rawKey = v;
          break;
        case "ttlinseconds":
          parseTtlInSeconds({ ttlInSeconds: v });
          break;
        default:
          headers[k] = v;
      }
    }
  }
  if (contentType) headers[CONTENT_TYPE_HEADER] = contentType;
  return {
    key: partitionKey || rawKey || null,
    value: Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    headers,
  };
}

/** Headers back to metadata, plus `__key`, `__partition` and `__offset` as Dapr reports them. */
export function fromKafkaMessage(
  message: KafkaMessage,
  partition: number,
): { data: Uint8Array; metadata: Metadata; contentType?: string } {
  const metadata: Metadata = {};
  let contentType: string | undefined;
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    if (v === undefined) continue;
    const text = (Array.isArray(v) ? v[v.length - 1] : v)?.toString() ?? "";
    if (k === CONTENT_TYPE_HEADER) contentType = text;
    else metadata[k] = text;
  }
  if (message.key) metadata.__key = message.key.toString();
  metadata.__partition = String(partition);
  metadata.__offset = message.offset;
  const value = message.value ?? Buffer.alloc(0);
  return {
    data: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    metadata,
    ...(contentType ? { contentType } : {}),
  };
}
