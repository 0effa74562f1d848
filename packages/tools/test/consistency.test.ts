import { relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkComponentPackage, componentPackageDirs } from "../src/consistency.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const dirs = await componentPackageDirs(repoRoot);

describe("every component package is consistent", () => {
  it("finds the component packages", () => {
    expect(dirs.map((d) => relative(repoRoot, d))).toContain("packages/memory");
  });
  for (const dir of dirs) {
    it(relative(repoRoot, dir), async () => {
      expect(await checkComponentPackage(dir, repoRoot)).toEqual([]);
    });
  }
});
