import { describe, expect, it } from "vitest";
import {
  bytesEqual,
  decodeJson,
  decodeStateValue,
  encodeStateValue,
  encodeValue,
  toBytes,
  tryDecodeJson,
  utf8,
  valueKind,
} from "../src/index.ts";

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

describe("value kinds", () => {
  it("a Uint8Array is bytes, anything else JSON, and the encoding says which", () => {
    expect(valueKind(new Uint8Array([1]))).toBe("bytes");
    expect(valueKind(Buffer.from("x"))).toBe("bytes");
    expect(valueKind("x")).toBe("json");
    expect(valueKind(undefined)).toBe("json");
    const json = encodeStateValue({ a: 1 });
    expect([json.kind, utf8(json.data)]).toEqual(["json", '{"a":1}']);
    expect(utf8(encodeStateValue(undefined).data)).toBe("null");
    const bytes = new Uint8Array([0x7b, 0x7d]);
    expect(encodeStateValue(bytes)).toEqual({ kind: "bytes", data: bytes });
  });

  it("decodeStateValue follows the kind a store reports, and guesses only without one", () => {
    const braces = toBytes("{}");
    expect(decodeStateValue({ data: braces, kind: "bytes" })).toBe(braces);
    expect(decodeStateValue({ data: braces, kind: "json" })).toEqual({});
    expect(decodeStateValue({ data: braces })).toEqual({});
    const binary = new Uint8Array([0xff]);
    expect(decodeStateValue({ data: binary })).toBe(binary);
    expect(decodeStateValue({ data: null })).toBeUndefined();
    expect(() => decodeStateValue({ data: binary, kind: "json" })).toThrow(SyntaxError);
  });
});
