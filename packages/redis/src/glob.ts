import { ComponentError } from "@outrig/core";

/** Escapes the characters Redis glob patterns treat specially, so the text matches itself. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * Translates an SQL LIKE pattern into a Redis glob that matches at least every key the LIKE
 * pattern matches. Redis's `?` matches one byte, not one character, so `_` becomes `?*` (one or
 * more bytes); callers filter the SCAN results with the exact pattern afterwards.
 */
export function likeToGlob(pattern: string): string {
  let glob = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) glob += escapeGlob(pattern[++i] as string);
    else if (ch === "%") glob += "*";
    else if (ch === "_") glob += "?*";
    else glob += escapeGlob(ch);
  }
  return glob;
}

/**
 * A keysLike page token: the SCAN cursor the page's last batch started from and the last key of
 * that batch already returned. Each batch is sorted, so resuming rescans that one batch and skips
 * what was returned, rather than counting an offset that a delete in between would shift.
 */
export interface ScanToken {
  cursor: string;
  after?: string;
}

export function encodeScanToken(token: ScanToken): string {
  return Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

export function decodeScanToken(text: string): ScanToken {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown;
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as ScanToken).cursor === "string" &&
      /^\d+$/.test((value as ScanToken).cursor) &&
      ((value as ScanToken).after === undefined || typeof (value as ScanToken).after === "string")
    ) {
      return value as ScanToken;
    }
  } catch {
    // reported below
  }
  throw new ComponentError("ERR_INVALID_REQUEST", "keysLike: invalid continuation token");
}
