import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const reportDir = process.env.OUTRIG_TEST_REPORT_DIR;
const packageName = basename(process.cwd());

/** Resolve workspace packages to their TypeScript source so tests never wait for a build. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@outrig/source", "import", "module", "node", "default"] },
  ssr: { resolve: { conditions: ["@outrig/source", "import", "module", "node", "default"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: reportDir
      ? ["default", ["json", { outputFile: `${reportDir}/${packageName}.json` }]]
      : ["default"],
  },
});
