/**
 * The consistency check every component package must pass: publishable package.json, a manifest,
 * a conformance test that calls the suite for each kind it provides, and a README whose install
 * line and capability table match the manifest. One source of truth, checked rather than trusted.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { PackageManifest } from "@outrig/core";

const SUITE_BY_KIND: Record<string, string> = {
  state: "describeStateStoreConformance",
  pubsub: "describePubSubConformance",
  bindings: "describeBindingConformance",
  configuration: "describeConfigurationStoreConformance",
  crypto: "describeCryptoProviderConformance",
  lock: "describeLockStoreConformance",
  conversation: "describeConversationConformance",
};

interface PackageJson {
  name?: string;
  type?: string;
  sideEffects?: boolean;
  files?: string[];
  engines?: { node?: string };
  exports?: Record<string, Record<string, string>>;
  publishConfig?: { access?: string };
  repository?: { directory?: string };
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** True when the package exports a `manifest` (it provides components). */
export async function loadManifest(dir: string): Promise<PackageManifest | undefined> {
  const index = join(dir, "src", "index.ts");
  if (!existsSync(index)) return undefined;
  const mod = (await import(pathToFileURL(index).href)) as { manifest?: PackageManifest };
  return mod.manifest;
}

/** Lists every problem of one package; empty when it is consistent. */
export async function checkComponentPackage(dir: string, repoRoot: string): Promise<string[]> {
  const problems: string[] = [];
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
  const name = pkg.name ?? "(unnamed)";
  const say = (m: string) => problems.push(`${name}: ${m}`);

  if (pkg.type !== "module") say('package.json "type" must be "module"');
  if (pkg.sideEffects !== false) say('package.json "sideEffects" must be false');
  if (!pkg.files?.includes("dist")) say('package.json "files" must include "dist"');
  if (!pkg.engines?.node?.includes("22"))
    say('package.json "engines.node" must require Node >= 22');
  if (pkg.publishConfig?.access !== "public")
    say('package.json "publishConfig.access" must be "public"');
  const expectedDir = relative(repoRoot, dir);
  if (pkg.repository?.directory !== expectedDir) {
    say(`package.json "repository.directory" must be ${JSON.stringify(expectedDir)}`);
  }
  const main = pkg.exports?.["."];
  const conditions = main ? Object.keys(main) : [];
  if (!main) say('package.json "exports" must have "."');
  else if (
    conditions.indexOf("types") < 0 ||
    conditions.indexOf("types") > conditions.indexOf("default")
  ) {
    say('package.json exports["."] must list "types" before "default"');
  }
  if (!pkg.peerDependencies?.["@outrig/core"]) say("@outrig/core must be a peer dependency");
  if (pkg.dependencies?.["@outrig/core"]) say("@outrig/core must not be a regular dependency");

  const manifest = await loadManifest(dir);
  if (!manifest) {
    say("src/index.ts must export a manifest");
    return problems;
  }
  if (manifest.packageName !== pkg.name) {
    say(`manifest.packageName ${JSON.stringify(manifest.packageName)} differs from package.json`);
  }
  if (manifest.components.length === 0) say("manifest names no components");

  // test/conformance.test.ts, or one file per kind such as test/state.conformance.test.ts.
  const testDir = join(dir, "test");
  const testText = existsSync(testDir)
    ? readdirSync(testDir)
        .filter((f) => /conformance\.test\.ts$/.test(f))
        .map((f) => readFileSync(join(testDir, f), "utf8"))
        .join("\n")
    : "";
  if (!testText) say("test/conformance.test.ts is missing");
  for (const kind of new Set(manifest.components.map((c) => c.kind))) {
    const suite = SUITE_BY_KIND[kind];
    if (suite && testText && !new RegExp(`\\b${suite}\\s*\\(`).test(testText)) {
      say(`test/conformance.test.ts must call ${suite} (it provides ${kind} components)`);
    }
  }

  const readmeFile = join(dir, "README.md");
  const readme = existsSync(readmeFile) ? readFileSync(readmeFile, "utf8") : "";
  if (!readme) say("README.md is missing");
  else {
    const firstBlock = /```[a-z]*\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    if (!new RegExp(`(pnpm add|npm install|npm i) [^\\n]*${escapeRegExp(name)}`).test(firstBlock)) {
      say(`README.md must start with the install line (pnpm add ${name}) in its first code block`);
    }
    const table = capabilitySections(readme);
    if (!table) say('README.md needs a "Capabilities" section with a table');
    for (const c of manifest.components) {
      if (!readme.includes(c.type)) say(`README.md does not name ${c.type}`);
      for (const cap of c.capabilities) {
        if (table && !table.includes(cap))
          say(`README capability table does not name ${c.type}'s ${cap}`);
      }
    }
  }
  return problems;
}

/** The text of every section whose heading mentions capabilities, joined. */
function capabilitySections(readme: string): string | undefined {
  const sections = [
    ...readme.matchAll(/^#{2,4} [^\n]*[Cc]apabilit[^\n]*\n([\s\S]*?)(?=^#{1,4} |(?![\s\S]))/gm),
  ]
    .map((m) => m[1] ?? "")
    .filter((text) => text.includes("|"));
  return sections.length > 0 ? sections.join("\n") : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Every package under packages/ that exports a manifest. */
export async function componentPackageDirs(repoRoot: string): Promise<string[]> {
  const base = join(repoRoot, "packages");
  const dirs: string[] = [];
  for (const entry of readdirSync(base, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(base, entry.name);
    if (!existsSync(join(dir, "package.json"))) continue;
    const index = join(dir, "src", "index.ts");
    if (existsSync(index) && /export\s*\{[^}]*\bmanifest\b/.test(readFileSync(index, "utf8")))
      dirs.push(dir);
  }
  return dirs.sort();
}
