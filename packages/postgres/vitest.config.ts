import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

/**
 * The shared conditions list `import`, which the test workers also hand to Node for external
 * modules; there it applies to CommonJS `require` too, so pg's `require("pg-pool")` would load
 * pg-pool's ESM build and fail. Without `import` (Vite adds it to ESM imports by itself), pg
 * loads as published.
 */
const conditions = ["@outrig/source", "module", "node", "default"];

export default defineConfig({
  ...sharedConfig,
  resolve: { ...sharedConfig.resolve, conditions },
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr?.resolve, conditions } },
});
