import { fileURLToPath } from "node:url";
import { type AssertionResult, runVitestReport } from "@outrig/conformance/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { configurationMutants } from "./configuration-mutants/mutants.ts";

/**
 * The mutation check of the configuration suite: it runs on deliberately broken variants of the
 * in-memory store (test/configuration-mutants), and each must fail the cases named for its bug,
 * while the correct variant behind the same harness passes every case.
 */

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const runMutants = (): Promise<AssertionResult[]> =>
  runVitestReport(packageRoot, "test/configuration-mutants/vitest.config.ts");

describe("configuration conformance suite: mutation check", () => {
  let results: AssertionResult[] = [];
  const ofVariant = (name: string) =>
    results.filter((r) =>
      r.ancestorTitles.includes(`configuration store conformance: mutant ${name}`),
    );

  beforeAll(async () => {
    results = await runMutants();
  }, 180_000);

  it("the correct store behind the same harness passes every case", () => {
    const own = ofVariant("correct");
    expect(own.length).toBeGreaterThanOrEqual(14);
    expect(own.filter((r) => r.status !== "passed").map((r) => r.title)).toEqual([]);
  });

  for (const [name, mutant] of Object.entries(configurationMutants)) {
    it(`mutant ${name} is caught by: ${mutant.mustFail.join(" | ")}`, () => {
      const own = ofVariant(name);
      expect(own.length, `the suite ran no tests for mutant ${name}`).toBeGreaterThanOrEqual(14);
      expect(own.find((r) => r.title.startsWith("ping:"))?.status).toBe("passed");
      const failed = own.filter((r) => r.status === "failed").map((r) => r.title);
      for (const prefix of mutant.mustFail) {
        expect(
          failed.filter((title) => title.startsWith(`${prefix}:`)),
          `mutant ${name} must fail "${prefix}"; failed: ${JSON.stringify(failed)}`,
        ).not.toHaveLength(0);
      }
    });
  }
});
