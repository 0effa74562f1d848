import { describe, expect, it } from "vitest";
import {
  ComponentError,
  compareJson,
  matchesFilter,
  parseFilter,
  valueAtPath,
} from "../src/index.ts";

function invalid(filter: unknown): string {
  try {
    parseFilter(filter);
  } catch (error) {
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).code).toBe("ERR_INVALID_REQUEST");
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(filter)} to be rejected`);
}

describe("parseFilter", () => {
  it("an absent or empty filter matches everything", () => {
    expect(parseFilter(undefined)).toBeUndefined();
    expect(parseFilter(null)).toBeUndefined();
    expect(parseFilter({})).toBeUndefined();
    expect(matchesFilter(parseFilter({}), { any: 1 })).toBe(true);
  });

  it("builds a tree from nested AND/OR and comparisons; operators are case-insensitive", () => {
    expect(
      parseFilter({
        and: [{ eq: { a: 1 } }, { OR: [{ In: { b: [1, 2] } }, { GTE: { "c.d": 3 } }] }],
      }),
    ).toEqual({
      op: "AND",
      children: [
        { op: "EQ", path: "a", value: 1 },
        {
          op: "OR",
          children: [
            { op: "IN", path: "b", value: [1, 2] },
            { op: "GTE", path: "c.d", value: 3 },
          ],
        },
      ],
    });
  });

  it("rejects malformed filters, naming the fault", () => {
    expect(invalid("EQ")).toContain("filter must be an object");
    expect(invalid([])).toContain("filter must be an object");
    expect(invalid({ EQ: { a: 1 }, NEQ: { b: 2 } })).toContain("exactly one operator");
    expect(invalid({ LIKE: { a: "x" } })).toContain("unknown operator LIKE");
    expect(invalid({ AND: [] })).toContain("AND needs an array");
    expect(invalid({ OR: { EQ: { a: 1 } } })).toContain("OR needs an array");
    expect(invalid({ AND: [{}] })).toContain("AND contains an empty filter");
    expect(invalid({ EQ: { a: 1, b: 2 } })).toContain("exactly one path");
    expect(invalid({ EQ: [1] })).toContain("EQ needs an object");
    expect(invalid({ IN: { a: 1 } })).toContain("IN needs an array");
  });
});

describe("matchesFilter", () => {
  const doc = {
    message: "<b>message",
    status: "ACTIVE",
    product: { value: 15, tags: ["a"] },
    zero: 0,
    empty: "",
    nothing: null,
    flag: false,
  };
  const m = (filter: unknown) => matchesFilter(parseFilter(filter), doc);

  it("EQ / NEQ on strings and dotted paths", () => {
    expect(m({ EQ: { message: "<b>message" } })).toBe(true);
    expect(m({ EQ: { message: "other" } })).toBe(false);
    expect(m({ NEQ: { status: "INACTIVE" } })).toBe(true);
    expect(m({ NEQ: { status: "ACTIVE" } })).toBe(false);
    expect(m({ EQ: { "product.value": 15 } })).toBe(true);
  });

  it("compares numbers numerically (a numeric string equals its number)", () => {
    expect(m({ GT: { "product.value": 11.1 } })).toBe(true);
    expect(m({ GTE: { "product.value": 15 } })).toBe(true);
    expect(m({ LT: { "product.value": 20 } })).toBe(true);
    expect(m({ LTE: { "product.value": 0.5 } })).toBe(false);
    expect(m({ GT: { "product.value": 100 } })).toBe(false);
    expect(m({ EQ: { "product.value": "15" } })).toBe(true);
  });

  it("EQ 0 does not match null, empty string, false or a missing field", () => {
    expect(m({ EQ: { zero: 0 } })).toBe(true);
    expect(m({ EQ: { nothing: 0 } })).toBe(false);
    expect(m({ EQ: { empty: 0 } })).toBe(false);
    expect(m({ EQ: { flag: 0 } })).toBe(false);
    expect(m({ EQ: { missing: 0 } })).toBe(false);
    expect(m({ IN: { nothing: [0, 1] } })).toBe(false);
  });

  it("range operators never match a missing or null field", () => {
    expect(m({ GT: { missing: 0 } })).toBe(false);
    expect(m({ LTE: { nothing: 100 } })).toBe(false);
  });

  it("IN matches any listed value", () => {
    expect(m({ IN: { message: ["dummy", "<b>message"] } })).toBe(true);
    expect(m({ IN: { message: ["dummy"] } })).toBe(false);
  });

  it("AND and OR combine, as in Dapr's conformance queries", () => {
    expect(
      m({
        AND: [
          { EQ: { message: "<b>message" } },
          { GTE: { "product.value": 10 } },
          { LT: { "product.value": 20 } },
          { NEQ: { status: "INACTIVE" } },
        ],
      }),
    ).toBe(true);
    expect(
      m({
        OR: [
          {
            AND: [
              { EQ: { message: "<b>message" } },
              { GT: { "product.value": 11.1 } },
              { EQ: { status: "INACTIVE" } },
            ],
          },
          {
            AND: [
              { EQ: { message: "<b>message" } },
              { LTE: { "product.value": 0.5 } },
              { EQ: { status: "ACTIVE" } },
            ],
          },
        ],
      }),
    ).toBe(false);
  });

  it("EQ compares objects and arrays structurally", () => {
    expect(m({ EQ: { "product.tags": ["a"] } })).toBe(true);
    expect(m({ EQ: { "product.tags": ["b"] } })).toBe(false);
  });
});

describe("valueAtPath and compareJson", () => {
  it("reads dotted paths and stops at non-objects", () => {
    expect(valueAtPath({ a: { b: { c: 1 } } }, "a.b.c")).toBe(1);
    expect(valueAtPath({ a: 1 }, "a.b")).toBeUndefined();
    expect(valueAtPath(null, "a")).toBeUndefined();
  });

  it("orders numbers numerically, strings by code unit, undefined last", () => {
    expect([10, 9, 100].sort(compareJson)).toEqual([9, 10, 100]);
    expect(["b", "a", "B"].sort(compareJson)).toEqual(["B", "a", "b"]);
    expect([undefined, 1, undefined, 0].sort(compareJson)).toEqual([0, 1, undefined, undefined]);
  });
});
