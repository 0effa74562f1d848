import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { LOCK_CASES } from "../src/index.ts";
import { type AssertionResult, runVitestReport } from "../src/testing/index.ts";
import { LOCK_MUTANTS } from "./lock-mutants/reference.ts";

/**
 * Proves the lock suite catches broken stores: the suite runs in a child vitest on a correct
 * reference store and on variants of it with one bug each, and every variant must fail the cases
 * named for its bug while the correct one passes everything.
 */

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const runMutants = (): Promise<AssertionResult[]> =>
  runVitestReport(packageRoot, "test/lock-mutants/vitest.config.ts");

const prefixes = Object.entries(LOCK_CASES) as [string, string][];

function caseOf(title: string): string | undefined {
  return prefixes.find(([, prefix]) => title.startsWith(`${prefix}:`))?.[0];
}

describe("lock conformance suite: mutation check", () => {
  let results: AssertionResult[] = [];
  const ofMutant = (name: string) =>
    results.filter((r) => r.ancestorTitles.includes(`lock store conformance: mutant ${name}`));

  beforeAll(async () => {
    results = await runMutants();
  }, 180_000);

  for (const [name, mutant] of Object.entries(LOCK_MUTANTS)) {
    const what = mutant.mustFail.length
      ? `fails ${mutant.mustFail.join(", ")}`
      : "passes every case";
    it(`mutant ${name} ${what}`, () => {
      const own = ofMutant(name);
      expect(own.length, `the suite ran no tests for mutant ${name}`).toBeGreaterThan(15);
      const failedCases = new Set(
        own.filter((r) => r.status === "failed").map((r) => caseOf(r.title) ?? r.title),
      );
      if (mutant.mustFail.length === 0) {
        expect([...failedCases], "the correct store must pass every case").toEqual([]);
        return;
      }
      // The harness works: the parts of the suite the bug does not touch still pass.
      expect(
        own.find((r) => r.title === "lifecycle: ping resolves")?.status,
        "ping must pass on every mutant",
      ).toBe("passed");
      for (const id of mutant.mustFail) {
        expect(
          failedCases.has(id),
          `mutant ${name} must fail case ${id}; failed: ${[...failedCases].join(", ")}`,
        ).toBe(true);
      }
    });
  }
});
