import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../../tools/src/vitest-preset.ts";

/**
 * Runs the state conformance suite on the broken variants only. Built from scratch rather than
 * merged with the package config, whose `include` would pull in the package's own tests.
 */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: sharedConfig.resolve,
  ssr: sharedConfig.ssr,
  test: {
    include: ["test/state-mutants/*.fixture.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Every mutant's suite runs at once; they mostly wait on TTLs.
    maxConcurrency: 100,
  },
});
