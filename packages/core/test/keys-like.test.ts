import { describe, expect, it } from "vitest";
import {
  ComponentError,
  isDirectChild,
  keysLikeEmptyPatternError,
  likePatternToRegExp,
  normalizeDeletePrefix,
} from "../src/index.ts";

const matches = (pattern: string, key: string) => likePatternToRegExp(pattern).test(key);

describe("likePatternToRegExp", () => {
  it("% matches any run of characters, including none and newlines", () => {
    expect(matches("abc%", "abc")).toBe(true);
    expect(matches("abc%", "abcdef")).toBe(true);
    expect(matches("%def", "abcdef")).toBe(true);
    expect(matches("a%f", "a\nb\nf")).toBe(true);
    expect(matches("%", "")).toBe(true);
    expect(matches("abc%", "xabc")).toBe(false);
  });

  it("_ matches exactly one character (a whole code point)", () => {
    expect(matches("abc_", "abc1")).toBe(true);
    expect(matches("abc_", "abc")).toBe(false);
    expect(matches("abc_", "abc33")).toBe(false);
    expect(matches("abc_", "abc😀")).toBe(true);
    expect(matches("__", "é!")).toBe(true);
  });

  it("is anchored at both ends", () => {
    expect(matches("key1", "prefix||key1")).toBe(false);
    expect(matches("key", "key1")).toBe(false);
  });

  it("backslash escapes %, _ and itself", () => {
    expect(matches("hello\\_", "hello_")).toBe(true);
    expect(matches("hello\\_", "helloX")).toBe(false);
    expect(matches("hello%\\%", "hello%%")).toBe(true);
    expect(matches("hello%\\%", "hello%x")).toBe(false);
    expect(matches("back\\\\slash", "back\\slash")).toBe(true);
    expect(matches("a\\b", "ab"), "an escaped ordinary character is itself").toBe(true);
    expect(matches("end\\", "end\\"), "a trailing backslash is literal").toBe(true);
  });

  it("treats RegExp syntax in keys literally", () => {
    for (const key of [
      "a.b",
      "a*b",
      "a+b",
      "a?b",
      "(a)",
      "[a]",
      "{a}",
      "a|b",
      "a^b",
      "a$b",
      "a/b",
      "a-b",
      "a||b",
    ]) {
      expect(matches(key, key), key).toBe(true);
    }
    expect(matches("a.b", "axb")).toBe(false);
    expect(matches("a||%", "a||b")).toBe(true);
    expect(matches("uuid-with-dashes-%", "uuid-with-dashes-1")).toBe(true);
  });
});

describe("normalizeDeletePrefix and isDirectChild", () => {
  it("appends || when missing and keeps it when present", () => {
    expect(normalizeDeletePrefix("app")).toBe("app||");
    expect(normalizeDeletePrefix("app||")).toBe("app||");
    expect(normalizeDeletePrefix("app||sub")).toBe("app||sub||");
  });

  it('rejects "" and "||" with ERR_INVALID_REQUEST', () => {
    for (const prefix of ["", "||"]) {
      try {
        normalizeDeletePrefix(prefix);
        expect.fail(`prefix ${JSON.stringify(prefix)} must be rejected`);
      } catch (error) {
        expect(error).toBeInstanceOf(ComponentError);
        expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
        expect((error as Error).message).toContain("prefix is required");
      }
    }
  });

  it("a direct child has no further || after the prefix", () => {
    expect(isDirectChild("prefix||key1", "prefix||")).toBe(true);
    expect(isDirectChild("prefix||prefix2||key3", "prefix||")).toBe(false);
    expect(isDirectChild("other-prefix||key1", "prefix||")).toBe(false);
    expect(isDirectChild("prefix", "prefix||")).toBe(false);
    expect(isDirectChild("prefix||", "prefix||"), "the empty child").toBe(true);
  });

  it("keysLike's empty-pattern error is an invalid request", () => {
    expect(keysLikeEmptyPatternError().code).toBe("ERR_INVALID_REQUEST");
  });
});
