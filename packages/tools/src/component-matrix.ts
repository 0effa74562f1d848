/**
 * Prints the CI matrix of component packages as JSON (`[{"package":"@outrig/redis","dir":"packages/redis"}]`),
 * derived from the workspace rather than a hand-kept list. With `--since <git ref>`, only packages
 * whose folder changed are listed — unless core, the tools, conformance or the root config changed, which
 * fans out to every component.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { componentPackageDirs } from "./consistency.ts";

const { values } = parseArgs({ options: { since: { type: "string" } } });
const root = resolve(import.meta.dirname, "../../..");
const dirs = (await componentPackageDirs(root)).map((d) => relative(root, d));

let selected = dirs;
if (values.since) {
  const changed = execFileSync("git", ["diff", "--name-only", `${values.since}...HEAD`], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  const fansOut = changed.some(
    (f) =>
      f.startsWith("packages/core/") ||
      f.startsWith("packages/tools/") ||
      f.startsWith("conformance/") ||
      !f.includes("/"),
  );
  if (!fansOut) selected = dirs.filter((d) => changed.some((f) => f.startsWith(`${d}/`)));
}

const matrix = selected.map((dir) => ({
  package: (JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as { name: string })
    .name,
  dir,
}));
console.log(JSON.stringify(matrix));
