import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { stateMutants } from "./state-mutants/mutants.ts";

/**
 * The mutation check: the state conformance suite runs on deliberately broken variants of the
 * in-memory store (test/state-mutants), and each must fail the tests named for its bug. A suite
 * that let a mutant through would be missing a case.
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
  const dir = await mkdtemp(join(tmpdir(), "outrig-state-mutants-"));
  const out = join(dir, "report.json");
  const env = { ...process.env };
  // A clean child run: no CI report file of its own, no worker state from this run.
  delete env.OUTRIG_TEST_REPORT_DIR;
  for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
  try {
    await promisify(execFile)(
      process.execPath,
      [
        vitestCli,
        "run",
        "--config",
        "test/state-mutants/vitest.config.ts",
        "--reporter=json",
        `--outputFile=${out}`,
      ],
      { cwd: packageRoot, env, timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { code?: number; stderr?: string }) => {
      // Exit code 1 just means tests failed, which is the point; anything else is a broken run.
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
