import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { encodeValue } from "@outrig/core";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * The `value` attribute: a string (S) when the bytes are valid UTF-8, as Dapr's DynamoDB component
 * writes it, else binary (B). Either reads back byte-exact.
 */
export function toValueAttribute(value: unknown): AttributeValue {
  const bytes = encodeValue(value);
  try {
    return { S: strictUtf8.decode(bytes) };
  } catch {
    return { B: new Uint8Array(bytes) };
  }
}

export function fromValueAttribute(attribute: AttributeValue | undefined): Uint8Array | null {
  if (!attribute) return null;
  if (attribute.S !== undefined) return encoder.encode(attribute.S);
  if (attribute.B !== undefined) return new Uint8Array(attribute.B);
  // Anything else (a number or map written by other tools) is returned as its JSON form.
  if (attribute.N !== undefined) return encoder.encode(attribute.N);
  return encoder.encode(JSON.stringify(attribute));
}

/** Seconds since the epoch, as DynamoDB's TTL wants them; rounded up so an item never lives shorter. */
export function expiryEpochSeconds(nowMs: number, ttlSeconds: number): number {
  return Math.ceil(nowMs / 1000) + ttlSeconds;
}

/** The expiry of an item in ms, or undefined when it has none (or it is not a number). */
export function expiryMs(
  item: Record<string, AttributeValue>,
  ttlAttribute: string | undefined,
): number | undefined {
  if (!ttlAttribute) return undefined;
  const n = item[ttlAttribute]?.N;
  if (n === undefined) return undefined;
  const seconds = Number(n);
  return Number.isFinite(seconds) ? seconds * 1000 : undefined;
}
