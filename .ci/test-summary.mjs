// Adds up the JSON reports every package's vitest run wrote and prints one closing line, so the
// whole run has a single "N passed, N failed" verdict. Failed tests are named at the very end,
// with the first lines of their error, because a long run's log is often read only from its tail.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
const packages = [];
const failures = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const suite of report.testResults ?? []) {
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== "failed") continue;
      const first = (test.failureMessages ?? [])
        .join("\n")
        .split("\n")
        .slice(0, 6)
        .join("\n      ");
      failures.push(
        `  FAILED ${suite.name.replace(/^.*\/packages\//, "")} > ${test.fullName}\n      ${first}`,
      );
    }
    // A file that fails to load has no failed test, only a failed suite: it still fails the run.
    if (
      suite.status === "failed" &&
      !(suite.assertionResults ?? []).some((t) => t.status === "failed")
    ) {
      failed += 1;
      failures.push(`  FAILED ${suite.name}: ${String(suite.message ?? "").split("\n")[0]}`);
    }
  }
  packages.push(
    `${file.replace(/\.json$/, "")}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
  );
}
for (const line of packages) console.log(`  ${line}`);
for (const line of failures) console.log(line);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
if (passed === 0 || failed > 0 || skipped > 0) process.exit(1);
