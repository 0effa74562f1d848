import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * A consistency check between the state suite and the spec it implements: every numbered case of
 * dapr-conformance.md §1.7 (1–28, with their lettered sub-cases) must be named by some test, so a
 * case cannot silently drop out of the suite.
 */
const CASES = [
  ...Array.from({ length: 28 }, (_, i) => String(i + 1)),
  ..."abcd".split("").map((l) => `6${l}`),
  "10a",
  "10b",
  ..."abcdefghij".split("").map((l) => `17${l}`),
  "24a",
  "24b",
  "24c",
];

async function testNames(): Promise<string[]> {
  const dir = fileURLToPath(new URL("../src/state/", import.meta.url));
  const names: string[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts"))) {
    const source = await readFile(`${dir}${file}`, "utf8");
    // The first argument of step(...)/it(...): a string or template literal.
    for (const m of source.matchAll(/\b(?:step|it)\(\s*(["'`])((?:\\.|(?!\1).)*)\1/gs))
      names.push(m[2] as string);
  }
  return names;
}

describe("state suite covers every numbered case of the spec", () => {
  it("each case 1–28 and each lettered sub-case is named by a test", async () => {
    const names = await testNames();
    expect(names.length, "no test names found: did the suite move?").toBeGreaterThan(50);
    const cited = new Set<string>();
    for (const name of names) {
      for (const m of name.matchAll(/\((\d{1,2}[a-j]?)(?=[,)])/g)) {
        const id = m[1] as string;
        cited.add(id);
        cited.add(id.replace(/[a-j]$/, ""));
      }
    }
    const missing = CASES.filter((c) => !cited.has(c));
    expect(missing, "cases no test names").toEqual([]);
  });
});
