import { defineConfig } from "vitest/config";
import { sharedConfig } from "../tools/src/vitest-preset.ts";

// The shared "module" condition makes Vite pick the AWS SDK's bundler-only build (extensionless
// ESM imports that Node cannot load), so this package resolves without it.
const conditions = ["@outrig/source", "import", "node", "default"];

export default defineConfig({
  ...sharedConfig,
  resolve: { ...sharedConfig.resolve, conditions },
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr?.resolve, conditions } },
});
