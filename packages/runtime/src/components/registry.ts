import { readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ComponentDefinition, ConfigError, type PackageManifest } from "@outrig/core";
import catalogFile from "../catalog.json" with { type: "json" };
import {
  envSecretStoreDefinition,
  fileSecretStoreDefinition,
  type SecretStoreDefinition,
} from "./secretstores.ts";

export type AnyComponentDefinition = ComponentDefinition | SecretStoreDefinition;

/** Resolves a Dapr component type (`state.redis`, version `v1`) to its definition. */
export interface ComponentRegistry {
  resolve(type: string, version?: string): Promise<AnyComponentDefinition>;
}

export interface RegistryOptions {
  /** Manifests to use before any installed package (tests, embedded apps, private packages). */
  manifests?: readonly PackageManifest[];
  /** Component type to package name; default: the catalog generated from the workspace manifests. */
  catalog?: Readonly<Record<string, string>>;
  /** Alias type to the type it names (Dapr's second names, e.g. `bindings.postgres`); default: the catalog's. */
  aliases?: Readonly<Record<string, string>>;
  /** Also scan `node_modules/@outrig/*` for packages the catalog does not know. Default true. */
  discover?: boolean;
  /** Where to resolve packages from besides this module; default `process.cwd()`. */
  resolveFrom?: string | readonly string[];
  /**
   * How the "not installed" error tells the user to install a package; default
   * `pnpm add <pkg>`. The CLI names its own `outrig components add` command.
   */
  installHint?: (pkg: string) => string;
}

/** The catalog shipped with this package: component type to the package providing it. */
export const CATALOG: Readonly<Record<string, string>> = (
  catalogFile as { components: Record<string, string> }
).components;

/** The catalog's aliases: a type Dapr also accepts under another name, to that type. */
export const CATALOG_ALIASES: Readonly<Record<string, string>> =
  (catalogFile as { aliases?: Record<string, string> }).aliases ?? {};

const BUILTINS: readonly SecretStoreDefinition[] = [
  envSecretStoreDefinition,
  fileSecretStoreDefinition,
];

function isManifest(value: unknown): value is PackageManifest {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as PackageManifest).packageName === "string" &&
    Array.isArray((value as PackageManifest).components)
  );
}

function notFound(error: unknown, pkg: string): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  const message = String((error as Error | undefined)?.message ?? "");
  return (
    (code === "ERR_MODULE_NOT_FOUND" ||
      code === "MODULE_NOT_FOUND" ||
      /Cannot find (package|module)|Failed to load url|Failed to resolve/.test(message)) &&
    message.includes(pkg)
  );
}

/**
 * A registry built from package manifests: explicit ones first, then the built-in secret stores,
 * then the package the catalog names for a type (imported on first use), then any other installed
 * `@outrig/*` package. A type whose package is not installed fails naming the package to add.
 */
export function createRegistry(options: RegistryOptions = {}): ComponentRegistry {
  const catalog = options.catalog ?? CATALOG;
  const aliases = options.aliases ?? CATALOG_ALIASES;
  const resolveFrom =
    typeof options.resolveFrom === "string"
      ? [options.resolveFrom]
      : [...(options.resolveFrom ?? [process.cwd()])];
  const installHint = options.installHint ?? ((pkg: string) => `pnpm add ${pkg}`);
  const definitions: AnyComponentDefinition[] = [
    ...(options.manifests ?? []).flatMap((m) => m.components),
    ...BUILTINS,
  ];
  const loaded = new Map<string, Promise<PackageManifest | undefined>>();

  async function importPackage(pkg: string): Promise<unknown> {
    try {
      return await import(pkg);
    } catch (first) {
      if (!notFound(first, pkg)) throw first;
      // Not a dependency of the runtime itself: resolve it from each folder given, in order
      // (the app's project, the resources path's, an extra components folder...).
      let file: string | undefined;
      for (const dir of resolveFrom) {
        try {
          file = createRequire(join(dir, "package.json")).resolve(pkg);
          break;
        } catch {
          // Not there: try the next folder.
        }
      }
      if (!file) throw first;
      return import(pathToFileURL(file).href);
    }
  }

  function loadPackage(pkg: string): Promise<PackageManifest | undefined> {
    let p = loaded.get(pkg);
    if (!p) {
      p = importPackage(pkg).then((mod) => {
        const manifest = (mod as { manifest?: unknown }).manifest;
        if (!isManifest(manifest)) return undefined;
        definitions.push(...manifest.components);
        return manifest;
      });
      loaded.set(pkg, p);
    }
    return p;
  }

  function find(type: string): AnyComponentDefinition[] {
    return definitions.filter((d) => d.type === type || d.aliases?.includes(type));
  }

  function pick(
    type: string,
    version: string | undefined,
    found: AnyComponentDefinition[],
  ): AnyComponentDefinition {
    const hit = version ? found.find((d) => d.version === version) : found[0];
    if (hit) return hit;
    throw new ConfigError(
      [
        {
          field: "spec.version",
          message: `${type} has no version ${version}; available: ${found.map((d) => d.version).join(", ")}`,
        },
      ],
      { component: type },
    );
  }

  return {
    async resolve(type, version) {
      let found = find(type);
      if (found.length > 0) return pick(type, version, found);
      const pkg = catalog[type] ?? catalog[aliases[type] ?? ""];
      if (pkg) {
        try {
          await loadPackage(pkg);
        } catch (error) {
          if (notFound(error, pkg)) {
            throw new ConfigError(
              [
                {
                  field: "spec.type",
                  message: `${type} is provided by ${pkg}: ${installHint(pkg)}`,
                },
              ],
              { component: type, cause: error },
            );
          }
          throw error;
        }
        found = find(type);
        if (found.length > 0) return pick(type, version, found);
      }
      if (options.discover !== false) {
        for (const name of await installedOutrigPackages(resolveFrom)) {
          await loadPackage(name).catch(() => undefined);
        }
        found = find(type);
        if (found.length > 0) return pick(type, version, found);
      }
      const sameBlock = Object.keys(catalog)
        .filter((t) => t.split(".")[0] === type.split(".")[0])
        .sort();
      throw new ConfigError(
        [
          {
            field: "spec.type",
            message: `unknown component type ${type}: no outrig package provides it${
              sameBlock.length > 0 ? ` (outrig provides ${sameBlock.join(", ")})` : ""
            }`,
          },
        ],
        { component: type },
      );
    },
  };
}

/** `@outrig/*` package names in the node_modules folders above `from` and above this module. */
async function installedOutrigPackages(from: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  const starts = [...from, dirname(fileURLToPath(import.meta.url))];
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const entries = await readdir(join(dir, "node_modules", "@outrig")).catch(
        () => [] as string[],
      );
      for (const e of entries) names.add(`@outrig/${e}`);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  for (const skip of ["@outrig/core", "@outrig/runtime", "@outrig/conformance", "@outrig/cli"])
    names.delete(skip);
  return [...names].sort();
}
