import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BINDING_CASES } from "../src/bindings/index.ts";

/**
 * Proves the bindings suite catches real bugs: broken variants of the loopback binding run the
 * suite in a child vitest, and the cases listed here must fail for each (and init must pass).
 */
type CaseId = keyof typeof BINDING_CASES;

const MUST_FAIL: Record<string, CaseId[]> = {
  "drops-failed-event": ["handlerFailure"],
  "corrupt-get": ["get"],
  "reads-after-close": ["closeInput"],
  "accepts-unknown-operation": ["operations"],
  "ignores-abort": ["abort"],
  "delete-is-a-no-op": ["delete"],
};

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const configFile = fileURLToPath(new URL("./bindings-mutants/vitest.config.ts", import.meta.url));

interface JsonReport {
  testResults: {
    assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
  }[];
}

/** mutant → case → status */
const results = new Map<string, Map<CaseId, string>>();
let reportDir: string | undefined;
let childOutput = "";

function caseOf(title: string): CaseId | undefined {
  const entries = Object.entries(BINDING_CASES) as [CaseId, string][];
  return entries.find(([, prefix]) => title.startsWith(`${prefix}:`))?.[0];
}

describe("bindings conformance catches broken bindings", () => {
  beforeAll(async () => {
    reportDir = await mkdtemp(join(tmpdir(), "outrig-binding-mutants-"));
    const outputFile = join(reportDir, "report.json");
    const vitestDir = dirname(createRequire(import.meta.url).resolve("vitest/package.json"));
    const env = { ...process.env };
    delete env.OUTRIG_TEST_REPORT_DIR;
    const child = spawn(
      process.execPath,
      [join(vitestDir, "vitest.mjs"), "run", "--config", configFile, "--reporter=json"].concat([
        "--outputFile",
        outputFile,
      ]),
      { cwd: packageDir, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.on("data", (chunk: Buffer) => {
      childOutput += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      childOutput += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    expect(exitCode, childOutput.slice(-4000)).toBe(1);
    const report = JSON.parse(await readFile(outputFile, "utf8")) as JsonReport;
    for (const file of report.testResults) {
      for (const test of file.assertionResults) {
        const mutant = /mutant (\S+)$/.exec(test.ancestorTitles.join(" "))?.[1];
        const id = caseOf(test.title);
        if (!mutant || !id) continue;
        if (!results.has(mutant)) results.set(mutant, new Map());
        results.get(mutant)?.set(id, test.status);
      }
    }
  }, 120_000);

  afterAll(async () => {
    if (reportDir) await rm(reportDir, { recursive: true, force: true });
  });

  it.each(Object.entries(MUST_FAIL))("mutant %s fails %j", (mutant, cases) => {
    const statuses = results.get(mutant);
    expect(statuses, `no results for mutant ${mutant}`).toBeDefined();
    for (const id of cases) expect(statuses?.get(id), `${mutant}: case ${id}`).toBe("failed");
    expect(statuses?.get("init"), `${mutant}: init`).toBe("passed");
  });
});
