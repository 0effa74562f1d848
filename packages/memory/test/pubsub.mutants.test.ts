import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PUBSUB_CASES } from "@outrig/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MutantName, mutants } from "./pubsub-mutants/mutants.ts";

/**
 * Proves the pub/sub suite catches real bugs: each broken variant of the in-memory pub/sub runs
 * the full suite in a child vitest, and the cases listed here must fail for it.
 */
type CaseId = keyof typeof PUBSUB_CASES;

const MUST_FAIL: Record<MutantName, CaseId[]> = {
  "acks-failed-handler": ["verifyRead", "verifyBulkRead", "redelivery"],
  "ignores-partition-key": ["ordering", "messageTtl"],
  "delivers-after-abort": ["stopSubscribers"],
  "bulk-delivers-after-abort": ["stopBulkSubscriber"],
  "drops-bulk-publish-entry": ["verifyRead"],
  "drops-bulk-subscribe-entry": ["verifyBulkRead"],
  "ignores-ttl": ["messageTtl"],
  "undeclared-bulk-works": ["bulkSubscribe", "bulkPublish"],
  "drops-metadata": ["metadataRoundTrip"],
  "close-is-a-no-op": ["close"],
};

/** The cases that no mutant breaks, so a child run that fails everywhere cannot pass this check. */
const MUST_PASS: CaseId[] = ["init", "ping", "subscribe"];

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const configFile = fileURLToPath(new URL("./pubsub-mutants/vitest.config.ts", import.meta.url));

interface JsonReport {
  testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
}

/** mutant → case title prefix → status */
const results = new Map<string, Map<string, string>>();
let reportDir: string | undefined;
let childOutput = "";

function caseOf(title: string): CaseId | undefined {
  const entries = Object.entries(PUBSUB_CASES) as [CaseId, string][];
  return entries.find(([, prefix]) => title.startsWith(`${prefix}:`))?.[0];
}

async function runFixtures(outputFile: string): Promise<number | null> {
  const vitestDir = dirname(createRequire(import.meta.url).resolve("vitest/package.json"));
  const env = { ...process.env };
  // The child's failures are expected; they must not land in the CI summary's report directory.
  delete env.OUTRIG_TEST_REPORT_DIR;
  const child = spawn(
    process.execPath,
    [
      join(vitestDir, "vitest.mjs"),
      "run",
      "--config",
      configFile,
      // The suites mostly sleep, so more workers than cores still shortens the run.
      "--maxWorkers=4",
      "--reporter=json",
      "--outputFile",
      outputFile,
    ],
    { cwd: packageDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout.on("data", (chunk: Buffer) => {
    childOutput += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    childOutput += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
}

describe("pub/sub conformance catches broken components", () => {
  beforeAll(async () => {
    reportDir = await mkdtemp(join(tmpdir(), "outrig-pubsub-mutants-"));
    const outputFile = join(reportDir, "report.json");
    const exitCode = await runFixtures(outputFile);
    // Failing cases make the child exit 1; anything else means it did not run the suites.
    expect(exitCode, childOutput.slice(-4000)).toBe(1);
    const report = JSON.parse(await readFile(outputFile, "utf8")) as JsonReport;
    for (const file of report.testResults) {
      const statuses = new Map<string, string>();
      for (const test of file.assertionResults) {
        const id = caseOf(test.title);
        if (id) statuses.set(id, test.status);
      }
      results.set(basename(file.name).replace(/\.fixture\.ts$/, ""), statuses);
    }
  }, 240_000);

  afterAll(async () => {
    if (reportDir) await rm(reportDir, { recursive: true, force: true });
  });

  it("runs every mutant through every case", () => {
    expect([...results.keys()].sort()).toEqual(Object.keys(mutants).sort());
    for (const [mutant, statuses] of results) {
      expect([...statuses.keys()].sort(), mutant).toEqual(Object.keys(PUBSUB_CASES).sort());
    }
  });

  it.each(Object.entries(MUST_FAIL))("mutant %s fails %j", (mutant, cases) => {
    const statuses = results.get(mutant);
    expect(statuses, `no results for mutant ${mutant}`).toBeDefined();
    for (const id of cases) expect(statuses?.get(id), `${mutant}: case ${id}`).toBe("failed");
    for (const id of MUST_PASS) expect(statuses?.get(id), `${mutant}: case ${id}`).toBe("passed");
  });
});
