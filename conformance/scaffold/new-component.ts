/**
 * `pnpm new:component <backend> [--kind state|pubsub] [--dir <path>]`: scaffolds a backend package
 * whose operations all reject with ERR_NOT_SUPPORTED, so it passes the consistency check at once
 * and fails the conformance suite, one clear "not supported" at a time, until it is implemented.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderComponentPackage } from "./template.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: "string", default: "state" },
    dir: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const usage = "usage: pnpm new:component <backend> [--kind state|pubsub] [--dir <path>]";
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const backend = positionals[0];
if (!backend || !/^[a-z][a-z0-9-]*$/.test(backend)) {
  console.error(
    `new:component: the backend name must be lower-case letters, digits and dashes\n${usage}`,
  );
  process.exit(1);
}
const kind = values.kind;
if (kind !== "state" && kind !== "pubsub") {
  console.error(
    `new:component: --kind must be state or pubsub, got ${JSON.stringify(kind)}\n${usage}`,
  );
  process.exit(1);
}

const root = resolve(import.meta.dirname, "../..");
const target = resolve(values.dir ?? join(root, "packages", backend));
if (existsSync(target)) {
  console.error(`new:component: ${target} already exists`);
  process.exit(1);
}
const files = renderComponentPackage({
  backend,
  kind,
  relativeRoot: relative(target, root) || ".",
  directory: relative(root, target),
});
for (const [path, text] of Object.entries(files)) {
  const file = join(target, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
// Every package's tarball carries the project's license.
copyFileSync(join(root, "LICENSE"), join(target, "LICENSE"));
const changeset = join(root, ".changeset", `${backend}-initial.md`);
if (!values.dir && !existsSync(changeset)) {
  writeFileSync(
    changeset,
    `---\n"@outrig/${backend}": minor\n---\n\nNew ${kind} component package.\n`,
  );
}
console.log(`created ${relative(root, target) || target} (${Object.keys(files).length} files)`);
console.log(
  "next: pnpm install, then pnpm --filter @outrig/" +
    backend +
    " test (it fails until implemented)",
);
