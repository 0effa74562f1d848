import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../../packages/tools/src/vitest-preset.ts";

/** Runs the bindings suite on the broken loopback variants only (not merged, so it cannot recurse). */
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  resolve: sharedConfig.resolve,
  ssr: sharedConfig.ssr,
  test: { include: ["test/bindings-mutants/*.fixture.ts"], testTimeout: 30_000 },
});
