/**
 * The vitest configuration every workspace package runs with (`vitest.config.ts`:
 * `export default sharedConfig`), and the resolve settings the mutant suites reuse.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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

/**
 * The same mapping as an alias list: vitest loads `globalSetup` files outside the module runner
 * that honours the conditions above, so `@outrig/conformance/services` would otherwise resolve to
 * a `dist/` that only exists after a build.
 */
function workspaceSourceAliases(): { find: RegExp; replacement: string }[] {
  const root = workspaceRoot(process.cwd());
  const dirs = [
    join(root, "conformance"),
    ...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d)),
  ];
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of dirs) {
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
      name: string;
      exports?: Record<string, Record<string, string>>;
    };
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const source = target["@outrig/source"];
      if (!source) continue;
      const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
      const escaped = specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      aliases.push({ find: new RegExp(`^${escaped}$`), replacement: join(dir, source) });
    }
  }
  return aliases;
}

/**
 * The folder holding pnpm-workspace.yaml above `from`: the workspace of the package under test
 * (found from where vitest runs rather than from this file, so a scratch workspace that links
 * these tools resolves its own packages).
 */
export function workspaceRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}

export const sharedConfig = defineConfig({
  resolve: { conditions, alias: workspaceSourceAliases() },
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
