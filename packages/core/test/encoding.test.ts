import { describe, expect, it } from "vitest";
import { bytesEqual, decodeJson, encodeValue, toBytes, tryDecodeJson, utf8 } from "../src/index.ts";

const text = (value: unknown) => utf8(encodeValue(value));

describe("encodeValue (Dapr §1.6)", () => {
  it("keeps bytes verbatim, Buffers included", () => {
    const bytes = new Uint8Array([0x00, 0xff, 0x01]);
    expect(encodeValue(bytes)).toBe(bytes);
    const buffer = Buffer.from([1, 2, 3]);
    expect([...encodeValue(buffer)]).toEqual([1, 2, 3]);
  });

  it("stores everything else as JSON", () => {
    expect(text(123)).toBe("123");
    expect(text(true)).toBe("true");
    expect(text("hello world")).toBe('"hello world"');
    expect(text("")).toBe('""');
    expect(text({ message: "test" })).toBe('{"message":"test"}');
    expect(text([1, "a"])).toBe('[1,"a"]');
    expect(text(null)).toBe("null");
    expect(text(undefined)).toBe("null");
  });

  it("a JSON-looking string stays a JSON string", () => {
    expect(text('{"a":"b"}')).toBe('"{\\"a\\":\\"b\\"}"');
    expect(decodeJson(encodeValue('{"a":"b"}'))).toBe('{"a":"b"}');
  });
});

describe("decoding helpers", () => {
  it("decodeJson parses and throws on non-JSON; tryDecodeJson returns undefined instead", () => {
    expect(decodeJson(toBytes('{"a":1}'))).toEqual({ a: 1 });
    expect(() => decodeJson(toBytes("not json"))).toThrow(SyntaxError);
    expect(tryDecodeJson(toBytes("not json"))).toBeUndefined();
    expect(tryDecodeJson(toBytes("42"))).toBe(42);
  });

  it("utf8 and toBytes round-trip", () => {
    expect(utf8(toBytes("héllo 😀"))).toBe("héllo 😀");
  });

  it("bytesEqual compares length and content", () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});
