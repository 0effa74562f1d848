import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const reportDir = process.env.OUTRIG_TEST_REPORT_DIR;
const packageName = basename(process.cwd());

/**
 * Resolve workspace packages to their TypeScript source so tests never wait for a build.
 * `import` is not listed: Vite adds it to ESM imports by itself, and vitest hands these
 * conditions to Node as `--conditions`, where `import` would also apply to CommonJS `require`
 * (pg's `require("pg-pool")` would then load pg-pool's ESM build and fail).
 */
const conditions = ["@outrig/source", "node", "default"];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: reportDir
      ? ["default", ["json", { outputFile: `${reportDir}/${packageName}.json` }]]
      : ["default"],
  },
});
