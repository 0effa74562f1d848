import { ComponentError, likePatternToRegExp } from "@outrig/core";
import { describe, expect, it } from "vitest";
import { parseRedisHost } from "../src/connection.ts";
import { decodeScanToken, encodeScanToken, escapeGlob, likeToGlob } from "../src/glob.ts";
import { parseEntry } from "../src/stream-entry.ts";

/** Redis's glob matcher for the subset likeToGlob emits: `*`, `?` (one byte) and `\` escapes. */
function redisGlobMatches(glob: string, key: string): boolean {
  const bytes = [...Buffer.from(key, "utf8")];
  const tokens: ({ kind: "lit"; byte: number } | { kind: "any" } | { kind: "one" })[] = [];
  const g = [...Buffer.from(glob, "utf8")];
  for (let i = 0; i < g.length; i++) {
    if (g[i] === 0x5c && i + 1 < g.length) tokens.push({ kind: "lit", byte: g[++i] as number });
    else if (g[i] === 0x2a) tokens.push({ kind: "any" });
    else if (g[i] === 0x3f) tokens.push({ kind: "one" });
    else tokens.push({ kind: "lit", byte: g[i] as number });
  }
  const match = (t: number, b: number): boolean => {
    if (t === tokens.length) return b === bytes.length;
    const token = tokens[t]!;
    if (token.kind === "any") {
      for (let k = b; k <= bytes.length; k++) if (match(t + 1, k)) return true;
      return false;
    }
    if (b === bytes.length) return false;
    if (token.kind === "one") return match(t + 1, b + 1);
    return token.byte === bytes[b] && match(t + 1, b + 1);
  };
  return match(0, 0);
}

describe("LIKE to Redis glob", () => {
  const keys = ["abc1", "abc33", "a*c", "a?c", "a[b]c", "a\\c", "é", "éé", "x_y", "x%y", "xzy", ""];
  const patterns = [
    "abc_",
    "abc__",
    "a%c",
    "a\\%c",
    "a*c",
    "a?c",
    "a[%",
    "a\\\\c",
    "_",
    "__",
    "x\\_y",
    "x\\%y",
    "%",
    "x_y",
  ];

  it("never loses a key the LIKE pattern matches (the glob is a superset)", () => {
    for (const pattern of patterns) {
      const exact = likePatternToRegExp(pattern);
      for (const key of keys) {
        if (exact.test(key)) {
          expect(redisGlobMatches(likeToGlob(pattern), key), `${pattern} vs ${key}`).toBe(true);
        }
      }
    }
  });

  it("escapes Redis's special characters", () => {
    expect(escapeGlob("a*b?c[d]e\\f")).toBe("a\\*b\\?c\\[d\\]e\\\\f");
    expect(likeToGlob("a[%")).toBe("a\\[*");
    expect(likeToGlob("a\\%")).toBe("a%");
    expect(likeToGlob("_")).toBe("?*");
  });
});

describe("keysLike tokens", () => {
  it("round-trip cursor and key, and reject anything else", () => {
    const token = { cursor: "123", after: "key with | and é" };
    expect(decodeScanToken(encodeScanToken(token))).toEqual(token);
    for (const bad of ["", "!!", Buffer.from('{"cursor":"x"}').toString("base64url")]) {
      expect(() => decodeScanToken(bad)).toThrow(ComponentError);
    }
  });
});

describe("redisHost", () => {
  it("reads Dapr's host:port and redis URLs", () => {
    expect(parseRedisHost("localhost:6380")).toEqual({ host: "localhost", port: 6380, tls: false });
    expect(parseRedisHost("[::1]:7000")).toEqual({ host: "::1", port: 7000, tls: false });
    expect(parseRedisHost("redis")).toEqual({ host: "redis", port: 6379, tls: false });
    expect(parseRedisHost("rediss://u:p%40ss@h:1/2")).toEqual({
      host: "h",
      port: 1,
      tls: true,
      username: "u",
      password: "p@ss",
      db: 2,
    });
    for (const bad of ["a:b:c", "h1:1,h2:2", "host:99999", "not a host"]) {
      expect(typeof parseRedisHost(bad), bad).toBe("string");
    }
  });
});

describe("stream entries", () => {
  it("parse fields in any order and skip entries trimmed before a claim", () => {
    const entry = parseEntry([
      Buffer.from("1-0"),
      [Buffer.from("metadata"), Buffer.from('{"a":1}'), Buffer.from("data"), Buffer.from([1, 2])],
    ]);
    expect(entry?.id).toBe("1-0");
    expect([...(entry?.fields.data ?? [])]).toEqual([1, 2]);
    expect(entry?.fields.metadata).toEqual({ a: "1" });
    expect(parseEntry([Buffer.from("2-0"), null])).toBeUndefined();
  });
});
