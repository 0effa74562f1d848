/** The files of a new component package, as text; kept apart from the CLI so tests can render it. */
import { indexExports, type KindInput, readmeSection, renderKind } from "./kind.ts";

export interface PackageInput extends KindInput {
  /** Path from the package folder to the workspace root, for tsconfig and vitest config. */
  relativeRoot: string;
  /** The package folder relative to the workspace root (package.json repository.directory). */
  directory: string;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function renderComponentPackage(input: PackageInput): Record<string, string> {
  const { names, relativeRoot, directory } = input;
  const pkg = `@outrig/${names.backend}`;
  const files: Record<string, string> = {};

  files["package.json"] = json({
    name: pkg,
    version: "0.0.0",
    description: `${names.type} for outrig`,
    type: "module",
    license: "Apache-2.0",
    sideEffects: false,
    engines: { node: ">=22.12" },
    exports: {
      ".": {
        "@outrig/source": "./src/index.ts",
        types: "./dist/index.d.ts",
        default: "./dist/index.js",
      },
    },
    files: ["dist", "LICENSE"],
    publishConfig: { access: "public", provenance: true },
    repository: {
      type: "git",
      url: "git+https://github.com/outrig-dev/outrig.git",
      directory,
    },
    homepage: `https://github.com/outrig-dev/outrig/tree/main/${directory}#readme`,
    bugs: { url: "https://github.com/outrig-dev/outrig/issues" },
    scripts: {
      build: "tsc -p tsconfig.build.json",
      typecheck: "tsc -p tsconfig.json --noEmit",
      test: "vitest run",
    },
    peerDependencies: { "@outrig/core": "workspace:^" },
    devDependencies: {
      "@outrig/conformance": "workspace:^",
      "@outrig/core": "workspace:^",
      "@types/node": "^24.10.1",
      typescript: "~5.9.3",
      vitest: "^4.0.14",
    },
  });
  files["tsconfig.json"] = json({
    extends: `${relativeRoot}/tsconfig.base.json`,
    compilerOptions: { noEmit: true },
    include: ["src", "test", "vitest.config.ts"],
  });
  files["tsconfig.build.json"] = json({
    extends: `${relativeRoot}/tsconfig.base.json`,
    compilerOptions: { rootDir: "src", outDir: "dist", noEmit: false },
    include: ["src"],
  });
  files["vitest.config.ts"] =
    `import { sharedConfig } from "${relativeRoot}/packages/tools/src/vitest-preset.ts";\n\nexport default sharedConfig;\n`;

  files["src/manifest.ts"] = `import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { ${names.definition} } from "./${names.file}.ts";

export const manifest = defineManifest({
  packageName: "${pkg}",
  version: pkg.version,
  components: [${names.definition}],
});
`;
  files["src/index.ts"] = `export { manifest } from "./manifest.ts";\n${indexExports(input)}`;
  Object.assign(files, renderKind(input));

  files["README.md"] = `# ${pkg}

\`\`\`sh
pnpm add ${pkg} @outrig/core
\`\`\`

TODO: one paragraph on the backend and its guarantees.

## In-process

\`\`\`ts
import { ${names.factory} } from "${pkg}";

const component = await ${names.factory}({ connectionString: "..." });
\`\`\`

## As a sidecar component

${readmeSection(input, "###")}`;
  return files;
}
