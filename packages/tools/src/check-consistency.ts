/**
 * `pnpm check:consistency [package dir...]`: the consistency check (./consistency.ts) of every
 * component package, or of the ones named; prints each problem and exits 1 if there is any.
 * Run with `--conditions=@outrig/source` (the root script does) so manifests load from source.
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkComponentPackage, componentPackageDirs } from "./consistency.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { root: { type: "string" } },
});
const root = resolve(values.root ?? `${import.meta.dirname}/../../..`);
const dirs =
  positionals.length > 0 ? positionals.map((d) => resolve(d)) : await componentPackageDirs(root);
let problems = 0;
for (const dir of dirs) {
  const found = await checkComponentPackage(dir, root);
  problems += found.length;
  for (const problem of found) console.error(problem);
  if (found.length === 0) console.log(`ok  ${relative(root, dir)}`);
}
if (problems > 0) {
  console.error(`${problems} problem(s) in ${dirs.length} package(s)`);
  process.exit(1);
}
