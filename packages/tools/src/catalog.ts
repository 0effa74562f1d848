// The one computation of the runtime's src/catalog.json (component type -> package) from the
// manifests of the workspace's component packages: the generator writes it, a test compares it
// with the committed file, so the two cannot disagree about what the catalog should be.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const packagesDir = join(here, "..", "..");
export const catalogPath = join(packagesDir, "runtime", "src", "catalog.json");

const NOT_COMPONENTS = new Set([
  "@outrig/core",
  "@outrig/runtime",
  "@outrig/conformance",
  "@outrig/tools",
  "outrig",
]);

export interface CatalogFile {
  components: Record<string, string>;
  /** Alias type to the type it names, e.g. `bindings.postgres` -> `bindings.postgresql`. */
  aliases: Record<string, string>;
}

interface Manifest {
  packageName: string;
  components: { type: string; aliases?: readonly string[] }[];
}

export interface CatalogResult {
  catalog: CatalogFile;
  /** One line per package, for the generator's log. */
  loaded: string[];
  /** Packages whose manifest was missing or did not load; their entries come from `previous`. */
  problems: string[];
}

export async function computeCatalog(previous: Partial<CatalogFile>): Promise<CatalogResult> {
  const components: Record<string, string> = {};
  const aliases: Record<string, string> = {};
  const loaded: string[] = [];
  const problems: string[] = [];

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
        problems.push(`${name}: exports no manifest, skipped`);
        continue;
      }
      for (const c of mod.manifest.components) {
        components[c.type] = name;
        for (const alias of c.aliases ?? []) aliases[alias] = c.type;
      }
      loaded.push(`${name}: ${mod.manifest.components.map((c) => c.type).join(", ")}`);
    } catch (error) {
      // A package that does not load right now keeps the entries it had.
      const kept = Object.entries(previous.components ?? {}).filter(([, p]) => p === name);
      for (const [type, p] of kept) components[type] = p;
      for (const [alias, type] of Object.entries(previous.aliases ?? {})) {
        if (kept.some(([t]) => t === type)) aliases[alias] = type;
      }
      problems.push(
        `${name}: cannot load its manifest (${(error as Error).message}); kept ${kept.length} entries`,
      );
    }
  }

  const sorted = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return {
    catalog: { components: sorted(components), aliases: sorted(aliases) },
    loaded,
    problems,
  };
}

/** The file's exact text, so a test can compare bytes with what the generator would write. */
export function formatCatalog(catalog: CatalogFile): string {
  return `${JSON.stringify(catalog, null, 2)}\n`;
}
