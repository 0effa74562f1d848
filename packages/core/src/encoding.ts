const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What a state value is: a JSON value, which a store keeps as JSON where its layout can (jsonb,
 * JSON text, a string attribute), or opaque bytes, kept verbatim. A `Uint8Array` is bytes;
 * anything else is JSON, as in Dapr (Go `[]byte` vs any other value).
 */
export type ValueKind = "json" | "bytes";

/** A state value with its kind, and the bytes a store writes or returns for it. */
export interface EncodedValue {
  kind: ValueKind;
  /** The bytes verbatim, or the JSON encoding of a JSON value. */
  data: Uint8Array;
}

export function valueKind(value: unknown): ValueKind {
  return value instanceof Uint8Array ? "bytes" : "json";
}

/** The JSON text of a JSON value; `undefined` (and what JSON cannot encode) becomes `null`. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/** A set request's value with its kind: bytes verbatim, anything else as its JSON encoding. */
export function encodeStateValue(value: unknown): EncodedValue {
  if (value instanceof Uint8Array) return { kind: "bytes", data: value };
  return { kind: "json", data: encoder.encode(jsonText(value)) };
}

/**
 * The value a get returned: the decoded JSON value when the store says it is JSON, the bytes when
 * it says they are bytes, and, from stores whose layout does not record the kind (Redis,
 * PostgreSQL v2), the decoded JSON when the bytes are JSON, else the bytes. `undefined` when the
 * key is missing.
 */
export function decodeStateValue(response: { data: Uint8Array | null; kind?: ValueKind }): unknown {
  const { data, kind } = response;
  if (data === null || data === undefined) return undefined;
  if (kind === "bytes") return data;
  if (kind === "json") return decodeJson(data);
  const decoded = tryDecodeJson(data);
  return decoded === undefined ? data : decoded;
}

/**
 * Encodes a state value as Dapr does: bytes are kept verbatim, everything else is stored as its
 * JSON encoding (so a string keeps its quotes and a JSON-looking string stays a JSON string).
 */
export function encodeValue(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return encoder.encode(jsonText(value));
}

/** Decodes stored bytes as JSON; throws SyntaxError when they are not JSON. */
export function decodeJson<T = unknown>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}

/** Decodes stored bytes as JSON when they are JSON, else returns `undefined`. */
export function tryDecodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
}

export function utf8(data: Uint8Array): string {
  return decoder.decode(data);
}

export function toBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
