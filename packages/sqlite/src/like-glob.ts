/**
 * Turns an SQL LIKE pattern (`%` any run, `_` one character, `\` escapes) into an SQLite GLOB
 * pattern. SQLite's LIKE ignores ASCII case, while Dapr's keysLike (Postgres LIKE) does not; GLOB
 * is case-sensitive, so matching goes through it. A trailing lone `\` is a literal backslash, as in
 * core's in-process matcher.
 */
export function likeToGlob(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) {
      out += globLiteral(pattern[++i] as string);
    } else if (ch === "%") {
      out += "*";
    } else if (ch === "_") {
      out += "?";
    } else {
      out += globLiteral(ch);
    }
  }
  return out;
}

function globLiteral(ch: string): string {
  // GLOB's metacharacters become one-character classes; `]` is literal outside a class.
  return ch === "*" || ch === "?" || ch === "[" ? `[${ch}]` : ch;
}
