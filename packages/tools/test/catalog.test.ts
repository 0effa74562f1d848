// The runtime's src/catalog.json is generated but has been edited by hand before; this fails as soon as the
// committed file and the workspace's manifests disagree.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { type CatalogFile, catalogPath, computeCatalog, formatCatalog } from "../src/catalog.ts";

describe("packages/runtime/src/catalog.json", () => {
  it("is what generate:catalog computes from the workspace manifests", async () => {
    const committed = await readFile(catalogPath, "utf8");
    const { catalog, problems } = await computeCatalog(JSON.parse(committed) as CatalogFile);
    // A manifest that does not load would fall back to the committed entries and hide drift.
    expect(problems, "every component package's manifest must load").toEqual([]);
    expect(
      committed,
      "src/catalog.json is out of date: run `pnpm --filter @outrig/runtime generate:catalog` and commit the result",
    ).toBe(formatCatalog(catalog));
  });
});
