import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../../packages/tools/src/vitest-preset.ts";

/** Runs the lock suite on the broken reference stores only (not merged, so it cannot recurse). */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: sharedConfig.resolve,
  ssr: sharedConfig.ssr,
  // Every mutant's suite runs at once; they mostly wait on expiry.
  test: { include: ["test/lock-mutants/*.fixture.ts"], testTimeout: 30_000, maxConcurrency: 100 },
});
