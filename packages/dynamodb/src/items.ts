import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { jsonText, type ValueKind } from "@outrig/core";

const encoder = new TextEncoder();

/**
 * The `value` attribute as Dapr's DynamoDB component writes it: a JSON value as its JSON text in a
 * string (S), opaque bytes as binary (B). The attribute type records the kind, so either reads
 * back byte-exact and as what it was.
 */
export function toValueAttribute(value: unknown): AttributeValue {
  if (value instanceof Uint8Array) return { B: new Uint8Array(value) };
  return { S: jsonText(value) };
}

export function fromValueAttribute(
  attribute: AttributeValue | undefined,
): { data: Uint8Array; kind: ValueKind } | null {
  if (!attribute) return null;
  if (attribute.S !== undefined) return { data: encoder.encode(attribute.S), kind: "json" };
  if (attribute.B !== undefined) return { data: new Uint8Array(attribute.B), kind: "bytes" };
  // Anything else (a number or map written by other tools) is returned as its JSON form.
  if (attribute.N !== undefined) return { data: encoder.encode(attribute.N), kind: "json" };
  return { data: encoder.encode(JSON.stringify(attribute)), kind: "json" };
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
