import { ComponentError } from "./errors.ts";

/**
 * Turns an SQL LIKE pattern (`%` any run, `_` one character, `\` escapes the next character) into
 * an anchored RegExp, for stores that match keys in process.
 */
export function likePatternToRegExp(pattern: string): RegExp {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[++i] as string);
    } else if (ch === "%") {
      source += "[\\s\\S]*";
    } else if (ch === "_") {
      source += "[\\s\\S]";
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`${source}$`, "u");
}

// Only syntax characters and `/` may be escaped in a `u` RegExp; `\-` would be a SyntaxError.
function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function keysLikeEmptyPatternError(): ComponentError {
  return new ComponentError("ERR_INVALID_REQUEST", "keysLike: a pattern is required");
}

export function prefixRequiredError(): ComponentError {
  return new ComponentError("ERR_INVALID_REQUEST", "deleteWithPrefix: prefix is required");
}

/** Dapr's deleteWithPrefix prefix: `||` is appended when missing; `""` and `"||"` are rejected. */
export function normalizeDeletePrefix(prefix: string): string {
  if (prefix === "" || prefix === "||") throw prefixRequiredError();
  return prefix.endsWith("||") ? prefix : `${prefix}||`;
}

/** True when `key` is a direct child of `prefix` (no further `||` after it). */
export function isDirectChild(key: string, normalizedPrefix: string): boolean {
  return key.startsWith(normalizedPrefix) && !key.slice(normalizedPrefix.length).includes("||");
}
