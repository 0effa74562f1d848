import { describe, expect, it } from "vitest";
import {
  ComponentError,
  getMetadata,
  isTruthy,
  parseTtlInSeconds,
  ttlExpireTimeMetadata,
} from "../src/index.ts";

function rejected(metadata: Record<string, string>): ComponentError {
  try {
    parseTtlInSeconds(metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(ComponentError);
    return error as ComponentError;
  }
  throw new Error(`expected ${JSON.stringify(metadata)} to be rejected`);
}

describe("parseTtlInSeconds", () => {
  it("is undefined when absent or empty, and 0 means no TTL", () => {
    expect(parseTtlInSeconds(undefined)).toBeUndefined();
    expect(parseTtlInSeconds({})).toBeUndefined();
    expect(parseTtlInSeconds({ ttlInSeconds: "" })).toBeUndefined();
    expect(parseTtlInSeconds({ ttlInSeconds: "0" })).toBeUndefined();
  });

  it("parses integers, -1 (remove the TTL) and the key case-insensitively", () => {
    expect(parseTtlInSeconds({ ttlInSeconds: "60" })).toBe(60);
    expect(parseTtlInSeconds({ ttlInSeconds: " 5 " })).toBe(5);
    expect(parseTtlInSeconds({ ttlInSeconds: "-1" })).toBe(-1);
    expect(parseTtlInSeconds({ TTLINSECONDS: "7" })).toBe(7);
    expect(parseTtlInSeconds({ ttlInSeconds: String(2 ** 31 - 1) })).toBe(2 ** 31 - 1);
  });

  it("rejects non-integers and values outside -1..2^31-1 with ERR_INVALID_REQUEST", () => {
    for (const value of ["foo", "1.5", "1e3", "5s", "-2", String(2 ** 31)]) {
      const error = rejected({ ttlInSeconds: value });
      expect(error.code, value).toBe("ERR_INVALID_REQUEST");
      expect(error.message, value).toContain("ttlInSeconds");
    }
  });
});

describe("ttlExpireTimeMetadata", () => {
  it("is RFC 3339 in UTC, and absent without an expiry", () => {
    expect(ttlExpireTimeMetadata(undefined)).toBeUndefined();
    expect(ttlExpireTimeMetadata(Date.UTC(2030, 0, 2, 3, 4, 5, 6))).toEqual({
      ttlExpireTime: "2030-01-02T03:04:05.006Z",
    });
  });
});

describe("getMetadata and isTruthy", () => {
  it("reads keys case-insensitively, preferring the exact spelling", () => {
    expect(getMetadata({ ContentType: "a" }, "contentType")).toBe("a");
    expect(getMetadata({ contentType: "exact", CONTENTTYPE: "upper" }, "contentType")).toBe(
      "exact",
    );
    expect(getMetadata(undefined, "x")).toBeUndefined();
    expect(getMetadata({}, "x")).toBeUndefined();
  });

  it("knows Dapr's truthy spellings", () => {
    for (const v of ["true", "True", "1", "yes", "y", "on", "t"]) expect(isTruthy(v), v).toBe(true);
    for (const v of ["false", "0", "no", "", "maybe", undefined])
      expect(isTruthy(v), String(v)).toBe(false);
  });
});
