import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../../tools/src/vitest-preset.ts";

/** Runs the configuration conformance suite on the broken variants only. */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: sharedConfig.resolve,
  ssr: sharedConfig.ssr,
  test: {
    include: ["test/configuration-mutants/*.fixture.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
