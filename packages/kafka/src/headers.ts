import { getMetadata, type Metadata } from "@outrig/core";
import type { IHeaders, KafkaMessage } from "kafkajs";

/** Publish metadata that steers the message rather than travelling as a header. */
const RESERVED = new Set(["partitionkey", "__key", "ttlinseconds"]);
const CONTENT_TYPE_HEADER = "content-type";

export interface OutgoingMessage {
  key: string | null;
  value: Buffer;
  headers: IHeaders;
}

/** Dapr's mapping: `partitionKey` (or `__key`) is the message key, other metadata are headers. */
export function toKafkaMessage(
  data: Uint8Array,
  metadata: Metadata | undefined,
  contentType: string | undefined,
): OutgoingMessage {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (!RESERVED.has(k.toLowerCase())) headers[k] = v;
  }
  if (contentType) headers[CONTENT_TYPE_HEADER] = contentType;
  const key = getMetadata(metadata, "partitionKey") || getMetadata(metadata, "__key") || null;
  return { key, value: Buffer.from(data.buffer, data.byteOffset, data.byteLength), headers };
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
