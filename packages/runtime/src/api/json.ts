import type { Metadata } from "@outrig/core";
import { type ApiErrorKind, apiError } from "./errors.ts";

/**
 * Deepest JSON nesting accepted in a request. JSON.parse copes with far more, but writing such a
 * value back (JSON.stringify when it is stored or wrapped) overflows the stack near 5000 levels;
 * 1000 leaves headroom and is far beyond any real document.
 */
export const MAX_JSON_DEPTH = 1000;

// Invalid UTF-8 is refused, not replaced with U+FFFD; a BOM stays in the text (and fails to
// parse), as Go's encoding/json refuses it.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 text; throws naming the fault on invalid bytes. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new Error("the body is not valid UTF-8");
  }
}

/**
 * Whether JSON nests deeper than `limit`, counting only brackets outside strings. It reads
 * UTF-16 text or UTF-8 bytes alike: brackets, quotes and backslashes are ASCII in both.
 */
function depthExceeds(json: string | Uint8Array, limit: number): boolean {
  if (json.length <= limit) return false;
  const at = typeof json === "string" ? (i: number) => json.charCodeAt(i) : (i: number) => json[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const TOO_DEEP = `JSON nesting deeper than ${MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)`;

/**
 * Refuses a JSON payload the sidecar will parse and write back (a published event's data) when
 * it nests deeper than {@link MAX_JSON_DEPTH}, as the request body limit does.
 */
export function assertJsonDepth(bytes: Uint8Array, kind: ApiErrorKind = "MALFORMED_BODY"): void {
  if (depthExceeds(bytes, MAX_JSON_DEPTH)) throw apiError(kind, { detail: TOO_DEEP });
}

/** Parses JSON bytes strictly: valid UTF-8, at most {@link MAX_JSON_DEPTH} levels deep. */
export function parseJson(bytes: Uint8Array): unknown {
  const text = decodeUtf8(bytes);
  if (depthExceeds(text, MAX_JSON_DEPTH)) {
    throw new Error(TOO_DEEP);
  }
  return JSON.parse(text);
}

/** {@link parseJson}, failing as the registry entry `kind` with the fault as `detail`. */
export function parseJsonAs(
  bytes: Uint8Array,
  kind: ApiErrorKind = "MALFORMED_BODY",
  params: Record<string, string> = {},
): unknown {
  try {
    return parseJson(bytes);
  } catch (error) {
    throw apiError(kind, { ...params, detail: (error as Error).message });
  }
}

/** Reads a JSON field as Go does: exact name first, then case-insensitively. */
export function field(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== "object") return undefined;
  const rec = obj as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

/** A `{string: string}` map from a JSON value; `null`/missing is empty, other scalars are stringified. */
export function stringMap(value: unknown): Metadata {
  const out: Metadata = {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
