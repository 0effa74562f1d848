import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../../tools/src/vitest-preset.ts";

/**
 * Runs the conformance suite on the broken variants only. Built from scratch rather than merged
 * with the package config: merging would append the package's own tests (this check included) to
 * `include` and recurse.
 */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: sharedConfig.resolve,
  ssr: sharedConfig.ssr,
  test: {
    include: ["test/pubsub-mutants/*.fixture.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
