import { fileURLToPath } from "node:url";
import { type AssertionResult, runVitestReport } from "@outrig/conformance/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { stateMutants } from "./state-mutants/mutants.ts";

/**
 * The mutation check: the state conformance suite runs on deliberately broken variants of the
 * in-memory store (test/state-mutants), and each must fail the tests named for its bug. A suite
 * that let a mutant through would be missing a case.
 */

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const runMutants = (): Promise<AssertionResult[]> =>
  runVitestReport(packageRoot, "test/state-mutants/vitest.config.ts");

describe("state conformance suite: mutation check", () => {
  let results: AssertionResult[] = [];
  const ofMutant = (name: string) =>
    results.filter((r) =>
      r.ancestorTitles.some((t) => t === `state store conformance: mutant ${name}`),
    );

  beforeAll(async () => {
    results = await runMutants();
    const table = Object.keys(stateMutants).map((name) => {
      const failed = ofMutant(name).filter((r) => r.status === "failed");
      return `${name}: ${failed.length} failed\n${failed.map((r) => `    ${r.title}`).join("\n")}`;
    });
    console.log(`mutant → tests that caught it\n${table.join("\n")}`);
  }, 180_000);

  for (const [name, mutant] of Object.entries(stateMutants)) {
    it(`mutant ${name} is caught by: ${mutant.mustFail.join(" | ")}`, () => {
      const own = ofMutant(name);
      expect(own.length, `the suite ran no tests for mutant ${name}`).toBeGreaterThan(20);
      // The harness works: the parts of the suite the bug does not touch still pass.
      expect(
        own.find((r) => r.title === "ping resolves (2)")?.status,
        "ping must pass on every mutant",
      ).toBe("passed");
      const failed = own.filter((r) => r.status === "failed").map((r) => r.title);
      for (const fragment of mutant.mustFail) {
        expect(
          failed.filter((title) => title.includes(fragment)),
          `mutant ${name} must fail a test named like "${fragment}"; failed: ${JSON.stringify(failed)}`,
        ).not.toHaveLength(0);
      }
    });
  }
});
