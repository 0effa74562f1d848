import { jsonText, type ValueKind } from "@outrig/core";

const encoder = new TextEncoder();

export interface StoredValue {
  value: string;
  isBinary: 0 | 1;
}

/**
 * A value as Dapr's SQLite component stores it: a JSON value as its JSON text (so `json_extract`
 * can query it), bytes as base64 with `is_binary` set, whatever they contain. Both read back
 * byte-exact, with their kind.
 */
export function toStored(value: unknown): StoredValue {
  if (value instanceof Uint8Array) {
    return {
      value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
      isBinary: 1,
    };
  }
  return { value: jsonText(value), isBinary: 0 };
}

function isBinaryFlag(isBinary: unknown): boolean {
  return (
    isBinary === 1 ||
    isBinary === 1n ||
    isBinary === true ||
    isBinary === "1" ||
    isBinary === "true"
  );
}

export function fromStored(
  value: string,
  isBinary: unknown,
): { data: Uint8Array; kind: ValueKind } {
  if (isBinaryFlag(isBinary)) {
    return { data: new Uint8Array(Buffer.from(value, "base64")), kind: "bytes" };
  }
  return { data: encoder.encode(value), kind: "json" };
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
