import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export { waitFor, waitUntil } from "./wait.ts";

/** One test's outcome in vitest's JSON report. */
export interface AssertionResult {
  ancestorTitles: string[];
  title: string;
  status: string;
}

/**
 * Runs vitest in a child process with `config` (relative to `packageRoot`) and returns every
 * test's outcome: the harness of the suites' mutation checks, where failing tests are the point.
 * The child is a clean run (no CI report file, no worker state of the calling run); an exit other
 * than "tests failed" is a broken run and throws.
 */
export async function runVitestReport(
  packageRoot: string,
  config: string,
  timeoutMs = 150_000,
): Promise<AssertionResult[]> {
  const vitestCli = join(
    createRequire(join(packageRoot, "package.json")).resolve("vitest/package.json"),
    "..",
    "vitest.mjs",
  );
  const dir = await mkdtemp(join(tmpdir(), "outrig-mutants-"));
  const out = join(dir, "report.json");
  const env = { ...process.env };
  delete env.OUTRIG_TEST_REPORT_DIR;
  for (const key of Object.keys(env)) if (key.startsWith("VITEST")) delete env[key];
  try {
    await promisify(execFile)(
      process.execPath,
      [vitestCli, "run", "--config", config, "--reporter=json", `--outputFile=${out}`],
      { cwd: packageRoot, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { code?: number }) => {
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
