import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { configurationMutants } from "./configuration-mutants/mutants.ts";

/**
 * The mutation check of the configuration suite: it runs on deliberately broken variants of the
 * in-memory store (test/configuration-mutants), and each must fail the cases named for its bug,
 * while the correct variant behind the same harness passes every case.
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
  const dir = await mkdtemp(join(tmpdir(), "outrig-configuration-mutants-"));
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
        "test/configuration-mutants/vitest.config.ts",
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
