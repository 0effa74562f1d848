const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a state value as Dapr does: bytes are kept verbatim, everything else is stored as its
 * JSON encoding (so a string keeps its quotes and a JSON-looking string stays a JSON string).
 */
export function encodeValue(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value === undefined) return encoder.encode("null");
  return encoder.encode(JSON.stringify(value));
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
