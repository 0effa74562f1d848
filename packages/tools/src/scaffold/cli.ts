/**
 * `pnpm new:component <backend> --kind state|pubsub|bindings [--service <name> [--port <n>]]`
 * scaffolds a component whose operations all reject with ERR_NOT_SUPPORTED, so it passes the
 * consistency check at once and fails the conformance suite, one "not supported" case at a time,
 * until it is implemented. `packages/<backend>` is created when missing; when it exists the kind
 * is added to it. `--service <name>` also creates the test service folder
 * (conformance/src/services/<name>/) and registers it; `pnpm new:component --service <name>`
 * alone creates only that. `--root <dir>` scaffolds into another workspace (tests use it).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { addKindToPackage } from "./existing.ts";
import { kindNames, NAME_PATTERN, SCAFFOLD_KINDS, type ScaffoldKind } from "./names.ts";
import { renderComponentPackage } from "./package.ts";
import { registerService, renderService, SERVICES_DIR } from "./service.ts";

const usage =
  "usage: pnpm new:component <backend> --kind state|pubsub|bindings [--service <name> [--port <n>]] [--root <dir>]\n" +
  "       pnpm new:component --service <name> [--port <n>] [--root <dir>]";

function fail(message: string): never {
  console.error(`new:component: ${message}\n${usage}`);
  process.exit(1);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    kind: { type: "string" },
    service: { type: "string" },
    port: { type: "string", default: "8080" },
    root: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const backend = positionals[0];
if (positionals.length > 1) fail(`one backend at a time, got ${positionals.join(" ")}`);
if (backend === undefined && values.service === undefined) fail("name a backend or a --service");
if (backend !== undefined && !NAME_PATTERN.test(backend)) {
  fail("the backend name must be lower-case letters, digits and dashes");
}
if (backend !== undefined && values.kind === undefined) fail("--kind is required with a backend");
if (values.kind !== undefined && !SCAFFOLD_KINDS.includes(values.kind as ScaffoldKind)) {
  fail(`--kind must be ${SCAFFOLD_KINDS.join(", ")}; got ${JSON.stringify(values.kind)}`);
}
if (backend === undefined && values.kind !== undefined) fail("--kind needs a backend");
const service = values.service;
if (service !== undefined && !NAME_PATTERN.test(service)) {
  fail("the service name must be lower-case letters, digits and dashes");
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a TCP port`);

const root = resolve(values.root ?? join(import.meta.dirname, "../../../.."));
if (!existsSync(join(root, "pnpm-workspace.yaml"))) fail(`${root} is not a pnpm workspace`);

const written: string[] = [];
const edited: string[] = [];
function write(base: string, files: Record<string, string>, existing: Set<string>): void {
  for (const [path, text] of Object.entries(files)) {
    const file = join(base, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    (existing.has(path) ? edited : written).push(relative(root, file));
  }
}
function changeset(name: string, pkg: string, text: string): void {
  const file = join(root, ".changeset", `${name}.md`);
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `---\n"${pkg}": minor\n---\n\n${text}\n`);
  written.push(relative(root, file));
}

// Everything is rendered (and every edit checked) before anything is written, so a refusal
// leaves the workspace as it was.
const steps: Array<() => void> = [];
try {
  if (service !== undefined) {
    const servicesDir = join(root, SERVICES_DIR);
    if (existsSync(join(servicesDir, service)))
      fail(`${join(servicesDir, service)} already exists`);
    const registry = registerService(join(servicesDir, "registry.ts"), service);
    const files = renderService({ name: service, port });
    steps.push(() => {
      write(servicesDir, files, new Set());
      write(servicesDir, { "registry.ts": registry }, new Set(["registry.ts"]));
      changeset(`service-${service}`, "@outrig/conformance", `New test service: ${service}.`);
    });
  }
  if (backend !== undefined && values.kind !== undefined) {
    const names = kindNames(backend, values.kind as ScaffoldKind);
    const target = join(root, "packages", backend);
    const input = { names, ...(service !== undefined ? { service } : {}) };
    if (existsSync(target)) {
      const files = addKindToPackage(target, input);
      steps.push(() => {
        write(target, files, new Set(["src/manifest.ts", "src/index.ts", "README.md"]));
        changeset(`${backend}-${names.file}`, `@outrig/${backend}`, `New ${names.type} component.`);
      });
    } else {
      const files = renderComponentPackage({
        ...input,
        relativeRoot: relative(target, root),
        directory: relative(root, target),
      });
      steps.push(() => {
        write(target, files, new Set());
        // Every package's tarball carries the project's license.
        copyFileSync(join(root, "LICENSE"), join(target, "LICENSE"));
        written.push(relative(root, join(target, "LICENSE")));
        changeset(
          `${backend}-initial`,
          `@outrig/${backend}`,
          `New ${names.type} component package.`,
        );
      });
    }
  }
} catch (error) {
  fail((error as Error).message);
}
for (const step of steps) step();

// The templates and the edits to existing files (a manifest entry, an import, export lines) are
// text; the repository's formatter puts names in its order and lines in its layout, so what the
// scaffold leaves passes `biome check`.
const typescript = [...written, ...edited].filter((f) => /\.(ts|json)$/.test(f));
if (typescript.length > 0) {
  const biome = createRequire(import.meta.url).resolve("@biomejs/biome/bin/biome");
  execFileSync(process.execPath, [biome, "check", "--write", ...typescript], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

for (const file of written) console.log(`created ${file}`);
for (const file of edited) console.log(`edited  ${file}`);
console.log(
  "next: pnpm install, pnpm --filter @outrig/runtime generate:catalog, then the package's tests " +
    "(they fail, case by case, until it is implemented); see CONTRIBUTING.md",
);
