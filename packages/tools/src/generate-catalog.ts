// Regenerates the runtime's src/catalog.json (component type -> package) from the manifests of
// the workspace's component packages, so the registry never depends on a hand-edited list.
// Run: pnpm --filter @outrig/runtime generate:catalog
import { readFile, writeFile } from "node:fs/promises";
import { type CatalogFile, catalogPath, computeCatalog, formatCatalog } from "./catalog.ts";

const previous = JSON.parse(await readFile(catalogPath, "utf8")) as Partial<CatalogFile>;
const { catalog, loaded, problems } = await computeCatalog(previous);
for (const line of loaded) console.log(line);
for (const line of problems) console.warn(line);
await writeFile(catalogPath, formatCatalog(catalog));
console.log(`wrote ${Object.keys(catalog.components).length} component types to ${catalogPath}`);
