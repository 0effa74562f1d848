import { describe, expect, it } from "vitest";
import { BINDING_CASES } from "../src/bindings/index.ts";

// dapr-conformance.md §3.2 numbers its bindings cases 1–10; each must name a suite case.
describe("bindings suite covers every numbered case of the spec", () => {
  it("each case 1–10 is named by a case title", () => {
    const cited = new Set(
      Object.values(BINDING_CASES).flatMap((t) => [...t.matchAll(/\((\d+)\)/g)].map((m) => m[1])),
    );
    const missing = Array.from({ length: 10 }, (_, i) => String(i + 1)).filter(
      (n) => !cited.has(n),
    );
    expect(missing).toEqual([]);
  });
});
