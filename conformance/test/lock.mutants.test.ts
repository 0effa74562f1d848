import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { LOCK_CASES } from "../src/index.ts";
import { LOCK_MUTANTS } from "./lock-mutants/reference.ts";

/**
 * Proves the lock suite catches broken stores: the suite runs in a child vitest on a correct
 * reference store and on variants of it with one bug each, and every variant must fail the cases
 * named for its bug while the correct one passes everything.
 */

interface AssertionResult {
  ancestorTitles: string[];
  title: string;
  status: string;
}

const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const vitestCli = join(
  createRequire(import.meta.url).resolve("vitest/package.json"),
  "..",
  "vitest.mjs",
);

async function runMutants(): Promise<AssertionResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "outrig-lock-mutants-"));
  const out = join(dir, "report.json");
  const env = { ...process.env };
  delete env.OUTRIG_TEST_REPORT_DIR;
  for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
  try {
    await promisify(execFile)(
      process.execPath,
      [
        vitestCli,
        "run",
        "--config",
        "test/lock-mutants/vitest.config.ts",
        "--reporter=json",
        `--outputFile=${out}`,
      ],
      { cwd: packageRoot, env, timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { code?: number }) => {
      // Exit code 1 means tests failed, which is the point; anything else is a broken run.
      if (error.code !== 1) throw error;
    });
    const report = JSON.parse(await readFile(out, "utf8")) as {
      testResults: { assertionResults: AssertionResult[] }[];
    };
    return report.testResults.flatMap((f) => f.assertionResults);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

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
