import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { delimiter, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { CliError } from "./errors.ts";

const run = promisify(execFile);

/**
 * Component packages for a CLI installed globally: `outrig components add` installs them with
 * npm into one folder (`~/.outrig/components`, beside the resource YAML, which the runtime
 * reads without recursing), and the registry resolves packages from there too.
 */

/** `redis` -> `@outrig/redis`; a path, URL, scoped name or `name@version` is kept as given. */
export function packageSpec(name: string): string {
  if (name.startsWith("@") || /[/\\:]|\.tgz$/.test(name)) return name;
  return `@outrig/${name}`;
}

/** Where component packages are resolved from besides the CLI's own install, in order. */
export function componentSearchPath(options: {
  appDir: string;
  resourcesPaths: readonly string[];
  componentsDir: string;
  env?: NodeJS.ProcessEnv;
}): string[] {
  const extra = (options.env ?? process.env).OUTRIG_COMPONENTS_PATH;
  return [
    options.appDir,
    ...options.resourcesPaths,
    ...(extra
      ? extra
          .split(delimiter)
          .filter(Boolean)
          .map((p) => resolve(p))
      : []),
    options.componentsDir,
  ];
}

/** The command that installs a missing package, for the registry's error message. */
export function installHint(pkg: string): string {
  const short = pkg.startsWith("@outrig/") ? pkg.slice("@outrig/".length) : pkg;
  return `install it with: outrig components add ${short}`;
}

async function ensureProject(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const manifest = join(dir, "package.json");
  try {
    await readFile(manifest, "utf8");
  } catch {
    await writeFile(
      manifest,
      `${JSON.stringify({ name: "outrig-components", private: true, dependencies: {} }, null, 2)}\n`,
    );
  }
}

async function npm(dir: string, args: string[]): Promise<void> {
  try {
    await run("npm", [...args, "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new CliError(`npm ${args[0]} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** Packages component packages take as peers, which this CLI provides itself. */
const SHARED_PEERS = ["@outrig/core"];

/** The folder of a package this CLI itself uses (its own install, wherever that is). */
function ownPackageDir(name: string): string | undefined {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
          name?: string;
        };
        if (manifest.name === name) return dir;
      } catch {
        // No manifest here: keep walking up.
      }
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  } catch {
    return undefined;
  }
}

/**
 * Component packages take `@outrig/core` as a peer: it must be the CLI's own copy (one set of
 * error classes for runtime and components), not one fetched from a registry, so peers are not
 * installed by npm and the CLI's copy is linked in after every install.
 */
async function linkSharedPeers(dir: string): Promise<void> {
  for (const name of SHARED_PEERS) {
    const own = ownPackageDir(name);
    if (!own) continue;
    const target = join(dir, "node_modules", ...name.split("/"));
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await symlink(own, target, "junction");
  }
}

export async function addComponents(dir: string, names: readonly string[]): Promise<string[]> {
  await ensureProject(dir);
  // A local tarball or folder is resolved from where the command was typed, not from `dir`.
  const specs = names.map((n) => {
    const spec = packageSpec(n);
    return /^(\.{1,2}[/\\]|[/\\])/.test(spec) || spec.endsWith(".tgz") ? resolve(spec) : spec;
  });
  await npm(dir, ["install", "--legacy-peer-deps", ...specs]);
  await linkSharedPeers(dir);
  return listComponents(dir);
}

export async function removeComponents(dir: string, names: readonly string[]): Promise<void> {
  const installed = await listComponents(dir);
  const packages = names.map(packageSpec);
  for (const pkg of packages) {
    if (!installed.includes(pkg)) {
      throw new CliError(`${pkg} is not installed in ${dir} (see: outrig components list)`);
    }
  }
  await npm(dir, ["uninstall", "--legacy-peer-deps", ...packages]);
  await linkSharedPeers(dir);
}

export async function listComponents(dir: string): Promise<string[]> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    return Object.keys(manifest.dependencies ?? {}).sort();
  } catch {
    return [];
  }
}
