// Regenerates src/catalog.json (component type -> package) from the manifests of the workspace's
// component packages, so the registry never depends on a hand-edited list.
// Run: pnpm --filter @outrig/runtime generate:catalog
import { readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(here, "..", "..");
const catalogPath = join(here, "..", "src", "catalog.json");
const NOT_COMPONENTS = new Set([
  "@outrig/core",
  "@outrig/runtime",
  "@outrig/conformance",
  "outrig",
]);

interface Manifest {
  packageName: string;
  components: { type: string; aliases?: readonly string[] }[];
}

const previous = JSON.parse(await readFile(catalogPath, "utf8")) as {
  components: Record<string, string>;
  aliases?: Record<string, string>;
};
const components: Record<string, string> = {};
/** Alias type to the type it names, e.g. `bindings.postgres` -> `bindings.postgresql`. */
const aliases: Record<string, string> = {};

for (const dir of (await readdir(packagesDir)).sort()) {
  const pkgJson = JSON.parse(
    await readFile(join(packagesDir, dir, "package.json"), "utf8").catch(() => "{}"),
  ) as {
    name?: string;
    exports?: { ".": Record<string, string> };
  };
  const name = pkgJson.name;
  const entry = pkgJson.exports?.["."]?.["@outrig/source"];
  if (!name || !entry || NOT_COMPONENTS.has(name)) continue;
  try {
    const mod = (await import(pathToFileURL(join(packagesDir, dir, entry)).href)) as {
      manifest?: Manifest;
    };
    if (!mod.manifest) {
      console.warn(`${name}: exports no manifest, skipped`);
      continue;
    }
    for (const c of mod.manifest.components) {
      components[c.type] = name;
      for (const alias of c.aliases ?? []) aliases[alias] = c.type;
    }
    console.log(`${name}: ${mod.manifest.components.map((c) => c.type).join(", ")}`);
  } catch (error) {
    // A package that does not load right now keeps the entries it had.
    const kept = Object.entries(previous.components).filter(([, p]) => p === name);
    for (const [type, p] of kept) components[type] = p;
    for (const [alias, type] of Object.entries(previous.aliases ?? {})) {
      if (kept.some(([t]) => t === type)) aliases[alias] = type;
    }
    console.warn(
      `${name}: cannot load its manifest (${(error as Error).message}); kept ${kept.length} entries`,
    );
  }
}

const sortedEntries = (record: Record<string, string>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
const sorted = sortedEntries(components);
await writeFile(
  catalogPath,
  `${JSON.stringify({ components: sorted, aliases: sortedEntries(aliases) }, null, 2)}\n`,
);
console.log(`wrote ${Object.keys(sorted).length} component types to ${catalogPath}`);
