/**
 * The contributor path of CONTRIBUTING.md, end to end, in a scratch workspace (a copy of the
 * conformance package and of one component package, the rest linked from this repository): the
 * scaffold creates a new state backend package with a new test service, and a new binding kind
 * in an existing package (sqlite); then lint, typecheck, the consistency check and the
 * conformance run behave as the guide says, and the scaffold touched exactly the places it lists.
 */
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "../../..");
const cli = join(repo, "packages/tools/src/scaffold/cli.ts");
const biome = join(repo, "node_modules/@biomejs/biome/bin/biome");
const tsc = join(realpathSync(join(repo, "conformance/node_modules/typescript")), "bin/tsc");
const vitest = join(realpathSync(join(repo, "conformance/node_modules/vitest")), "vitest.mjs");
// The child runs must not write into the CI summary, nor find a real service.
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.OUTRIG_TEST_REPORT_DIR;
delete env.OUTRIG_TEST_NEWSVC_URL;

let root: string;

/** `node_modules` of a copied package: its entries linked to where this repository has them. */
function linkModules(from: string, to: string, replace: Record<string, string> = {}): void {
  for (const scope of readdirSync(join(from, "node_modules"))) {
    if (scope.startsWith(".")) continue;
    const names = scope.startsWith("@")
      ? readdirSync(join(from, "node_modules", scope)).map((n) => `${scope}/${n}`)
      : [scope];
    for (const name of names) {
      const target = replace[name] ?? realpathSync(join(from, "node_modules", name));
      mkdirSync(dirname(join(to, "node_modules", name)), { recursive: true });
      symlinkSync(target, join(to, "node_modules", name));
    }
  }
}

function copyPackage(from: string, to: string, replace: Record<string, string> = {}): void {
  cpSync(from, to, {
    recursive: true,
    filter: (path) => !/\/(node_modules|dist|\.turbo)(\/|$)/.test(relative(repo, path)),
  });
  linkModules(from, to, replace);
}

async function node(args: string[], cwd = root): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd, env, timeout: 120_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: `${e.stdout}${e.stderr}` };
  }
}

/** Every file under `dir`, relative to the workspace, for comparing before and after. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.parentPath.includes("node_modules"))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "outrig-scaffold-"));
  for (const file of [
    "pnpm-workspace.yaml",
    "biome.json",
    "tsconfig.base.json",
    "LICENSE",
    "package.json",
  ]) {
    cpSync(join(repo, file), join(root, file));
  }
  mkdirSync(join(root, ".changeset"));
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  mkdirSync(join(root, "packages"));
  symlinkSync(join(repo, "packages/tools"), join(root, "packages/tools"));
  copyPackage(join(repo, "conformance"), join(root, "conformance"));
  copyPackage(join(repo, "packages/sqlite"), join(root, "packages/sqlite"), {
    "@outrig/conformance": join(root, "conformance"),
  });
  // Biome reads .gitignore through git, as in the repository.
  await run("git", ["init", "-q"], { cwd: root });
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("scaffolding", { timeout: 240_000 }, () => {
  let before: string[];
  let createdStore: string;
  let addedBinding: string;

  it("creates a state backend with a new test service, and a binding kind in sqlite", async () => {
    before = [...listFiles(join(root, "conformance")), ...listFiles(join(root, "packages/sqlite"))];
    const store = await node([
      cli,
      "newstore",
      "--kind",
      "state",
      "--service",
      "newsvc",
      "--port",
      "7000",
      "--root",
      root,
    ]);
    expect(store.code, store.out).toBe(0);
    createdStore = store.out;
    const binding = await node([cli, "sqlite", "--kind", "bindings", "--root", root]);
    expect(binding.code, binding.out).toBe(0);
    addedBinding = binding.out;
    // What pnpm install does for the new package: its dependencies, linked.
    linkModules(join(repo, "packages/sqlite"), join(root, "packages/newstore"), {
      "@outrig/conformance": join(root, "conformance"),
    });
  });

  it("touches exactly the places CONTRIBUTING.md lists", () => {
    const after = [
      ...listFiles(join(root, "conformance")),
      ...listFiles(join(root, "packages/sqlite")),
    ];
    const created = after.filter((f) => !before.includes(f));
    expect(created.sort()).toEqual(
      [
        "conformance/src/services/newsvc/image/entrypoint.sh",
        "conformance/src/services/newsvc/image/image.json",
        "conformance/src/services/newsvc/image/recipe.sh",
        "conformance/src/services/newsvc/index.ts",
        "conformance/src/services/newsvc/probe.ts",
        "packages/sqlite/src/binding-options.ts",
        "packages/sqlite/src/binding.ts",
        "packages/sqlite/test/binding.conformance.test.ts",
      ].sort(),
    );
    const edited = [
      ...createdStore.matchAll(/^edited\s+(\S+)$/gm),
      ...addedBinding.matchAll(/^edited\s+(\S+)$/gm),
    ]
      .map((m) => m[1])
      .sort();
    expect(edited).toEqual(
      [
        "conformance/src/services/registry.ts",
        "packages/sqlite/README.md",
        "packages/sqlite/src/index.ts",
        "packages/sqlite/src/manifest.ts",
      ].sort(),
    );
    expect(listFiles(join(root, "packages/newstore"))).toEqual(
      [
        "LICENSE",
        "README.md",
        "package.json",
        "src/index.ts",
        "src/manifest.ts",
        "src/state-options.ts",
        "src/state.ts",
        "test/state.conformance.test.ts",
        "tsconfig.build.json",
        "tsconfig.json",
        "vitest.config.ts",
      ].map((f) => `packages/newstore/${f}`),
    );
    expect(readdirSync(join(root, ".changeset")).sort()).toEqual([
      "newstore-initial.md",
      "service-newsvc.md",
      "sqlite-binding.md",
    ]);
    // A CONTRIBUTING.md that names every one of these places.
    const guide = readFileSync(join(repo, "CONTRIBUTING.md"), "utf8");
    for (const place of [
      "packages/<backend>/",
      "conformance/src/services/<service>/",
      "conformance/src/services/registry.ts",
      "src/manifest.ts",
      "src/index.ts",
      "README.md",
      ".changeset/",
      "pnpm-lock.yaml",
      "packages/runtime/src/catalog.json",
    ]) {
      expect(guide, place).toContain(place);
    }
  });

  it("passes biome check as generated", async () => {
    const lint = await node(
      [biome, "check", "packages/newstore", "packages/sqlite", "conformance/src/services"],
      root,
    );
    expect(lint.code, lint.out).toBe(0);
  });

  it("typechecks as generated (the new package, sqlite, conformance with the new service)", async () => {
    for (const dir of ["packages/newstore", "packages/sqlite", "conformance"]) {
      const check = await node([tsc, "-p", "tsconfig.json", "--noEmit"], join(root, dir));
      expect(check.code, `${dir}: ${check.out}`).toBe(0);
    }
  });

  it("passes the consistency check", async () => {
    const check = await node([
      "--conditions=@outrig/source",
      join(repo, "packages/tools/src/check-consistency.ts"),
      "--root",
      root,
    ]);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toContain("ok  packages/newstore");
    expect(check.out).toContain("ok  packages/sqlite");
  });

  it("registers the new service for the image build", async () => {
    const exports = await run(
      "bash",
      [join(root, "conformance/scripts/build-images.sh"), "--exports"],
      { env },
    );
    expect(exports.stdout).toContain(
      `export OUTRIG_TEST_NEWSVC_IMAGE="\${OUTRIG_TEST_NEWSVC_IMAGE:-localhost/outrig-newsvc:0}"`,
    );
  });

  for (const [dir, file] of [
    ["packages/newstore", "test/state.conformance.test.ts"],
    ["packages/sqlite", "test/binding.conformance.test.ts"],
  ] as const) {
    it(`${dir}: the conformance run fails case by case with "not supported", not at collection`, async () => {
      const report = join(root, `${dir.replace("/", "-")}.json`);
      const result = await node(
        [vitest, "run", file, "--reporter=json", `--outputFile=${report}`],
        join(root, dir),
      );
      expect(result.code, result.out).not.toBe(0);
      expect(existsSync(report), result.out).toBe(true);
      const json = JSON.parse(readFileSync(report, "utf8")) as {
        testResults: {
          message?: string;
          assertionResults: { status: string; failureMessages: string[] }[];
        }[];
      };
      const [suite] = json.testResults;
      expect(suite?.message ?? "", "collection must not fail").toBe("");
      const failed = suite?.assertionResults.filter((a) => a.status === "failed") ?? [];
      expect(failed.length).toBeGreaterThan(2);
      // The failures come from the stub: most name an operation (or ping) that is not supported;
      // the rest follow from one (a bulk write's failed items, a declared operation missing
      // from operations()).
      const messages = failed.map((a) => a.failureMessages.join("\n"));
      const notSupported = messages.filter((m) =>
        /not supported|ERR_NOT_SUPPORTED|\] ping is/.test(m),
      );
      expect(notSupported.length, messages.map((m) => m.slice(0, 160)).join("\n")).toBeGreaterThan(
        failed.length / 2,
      );
    });
  }
});
