import { encodeValue } from "@outrig/core";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export interface StoredValue {
  value: string;
  isBinary: 0 | 1;
}

/**
 * A value as Dapr's SQLite component stores it: text when it is text (so `json_extract` can query
 * it), base64 with `is_binary` for bytes that are not valid UTF-8. Both read back byte-exact.
 */
export function toStored(value: unknown): StoredValue {
  // JSON.stringify always yields well-formed text (lone surrogates are escaped), so only bytes
  // need the UTF-8 check.
  if (!(value instanceof Uint8Array)) {
    const text = value === undefined ? undefined : JSON.stringify(value);
    if (text !== undefined) return { value: text, isBinary: 0 };
  }
  const bytes = encodeValue(value);
  try {
    return { value: strictUtf8.decode(bytes), isBinary: 0 };
  } catch {
    return {
      value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      isBinary: 1,
    };
  }
}

export function fromStored(value: string, isBinary: unknown): Uint8Array {
  if (
    isBinary === 1 ||
    isBinary === 1n ||
    isBinary === true ||
    isBinary === "1" ||
    isBinary === "true"
  ) {
    return new Uint8Array(Buffer.from(value, "base64"));
  }
  return encoder.encode(value);
}

/**
 * Timestamps are UTC text `YYYY-MM-DD HH:MM:SS.SSS`: SQLite's own CURRENT_TIMESTAMP shape (which
 * Dapr writes) with milliseconds, so both compare correctly as strings.
 */
export function toTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

export function fromTimestamp(text: string): number {
  const iso = text.trim().replace(" ", "T");
  // Rows written by other tools may carry an explicit zone; bare ones are UTC, as SQLite writes them.
  return Date.parse(/(?:[zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
}
