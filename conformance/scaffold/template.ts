/** The files of a new component package, as text; kept apart from the CLI so tests can render it. */
export interface TemplateInput {
  backend: string;
  kind: "state" | "pubsub";
  /** Path from the package folder to the repository root, for tsconfig and vitest config. */
  relativeRoot: string;
  /** The package folder relative to the repository root (package.json repository.directory). */
  directory?: string;
}

function pascal(name: string): string {
  return name
    .split("-")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

export function renderComponentPackage(input: TemplateInput): Record<string, string> {
  const { backend, kind, relativeRoot } = input;
  const Name = pascal(backend);
  const type = `${kind}.${backend}`;
  const cls = kind === "state" ? `${Name}StateStore` : `${Name}PubSub`;
  const factory = `create${cls}`;
  const pkg = `@outrig/${backend}`;
  const files: Record<string, string> = {};

  files["package.json"] = `${JSON.stringify(
    {
      name: pkg,
      version: "0.0.0",
      description: `${type} for outrig`,
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
        directory: input.directory ?? `packages/${backend}`,
      },
      homepage: `https://github.com/outrig-dev/outrig/tree/main/${input.directory ?? `packages/${backend}`}#readme`,
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
    },
    null,
    2,
  )}\n`;

  files["tsconfig.json"] = `${JSON.stringify(
    {
      extends: `${relativeRoot}/tsconfig.base.json`,
      compilerOptions: { noEmit: true },
      include: ["src", "test", "vitest.config.ts"],
    },
    null,
    2,
  )}\n`;
  files["tsconfig.build.json"] = `${JSON.stringify(
    {
      extends: `${relativeRoot}/tsconfig.base.json`,
      compilerOptions: { rootDir: "src", outDir: "dist", noEmit: false },
      include: ["src"],
    },
    null,
    2,
  )}\n`;
  files["vitest.config.ts"] =
    `import { sharedConfig } from "${relativeRoot}/conformance/vitest.shared.ts";\n\nexport default sharedConfig;\n`;

  files["src/options.ts"] = `import { defineOptions, option } from "@outrig/core";

/** ${type} metadata: names follow Dapr's component so its YAML loads unchanged. */
export const options = defineOptions("${type}", {
  connectionString: option.string({
    required: true,
    sensitive: true,
    description: "How to reach the ${backend} server.",
  }),
});
`;

  files["src/index.ts"] = `export { manifest } from "./manifest.ts";
export { options } from "./options.ts";
export { ${cls}, ${factory} } from "./${kind}.ts";
`;

  files["src/manifest.ts"] = `import { defineManifest } from "@outrig/core";
import { options } from "./options.ts";
import { ${factory} } from "./${kind}.ts";

export const manifest = defineManifest({
  packageName: "${pkg}",
  version: "0.0.0",
  components: [
    {
      type: "${type}",
      kind: "${kind}",
      version: "v1",
      status: "alpha",
      description: "TODO: one sentence on what this component stores or delivers.",
      capabilities: [],
      options,
      create: ${factory},
    },
  ],
});
`;

  if (kind === "state") {
    files["src/state.ts"] = `import {
  type ComponentContext,
  type DeleteRequest,
  type GetRequest,
  type GetResponse,
  type Metadata,
  type SetRequest,
  type StateCapability,
} from "@outrig/core";
import { BaseStateStore } from "@outrig/core/kit";
import { options } from "./options.ts";

/**
 * Every operation rejects with ERR_NOT_SUPPORTED until it is implemented. The base checks the
 * store is open and the request is valid before calling these methods.
 */
export class ${cls} extends BaseStateStore {
  readonly componentType = "${type}";
  /** Declare a capability only once its operation works: the suite checks both ways. */
  readonly capabilities: ReadonlySet<StateCapability> = new Set<StateCapability>();

  protected async getItem(_request: GetRequest): Promise<GetResponse> {
    throw this.errors.notSupported("get");
  }

  protected async setItem(_request: SetRequest): Promise<void> {
    throw this.errors.notSupported("set");
  }

  protected async deleteItem(_request: DeleteRequest): Promise<void> {
    throw this.errors.notSupported("delete");
  }

  protected override async onPing(): Promise<void> {
    throw this.errors.notSupported("ping");
  }
}

export async function ${factory}(metadata: Metadata = {}, _context?: ComponentContext): Promise<${cls}> {
  options.parse(metadata);
  return new ${cls}();
}
`;
    files["test/conformance.test.ts"] =
      `import { describeStateStoreConformance } from "@outrig/conformance";
import { ${factory} } from "../src/index.ts";

describeStateStoreConformance({
  name: "${backend}",
  create: () =>
    ${factory}({ connectionString: process.env.OUTRIG_TEST_${backend.toUpperCase().replaceAll("-", "_")}_URL ?? "" }),
});
`;
  } else {
    files["src/pubsub.ts"] = `import {
  type ComponentContext,
  type MessageHandler,
  type Metadata,
  type PublishRequest,
  type PubSubCapability,
  type SubscribeRequest,
} from "@outrig/core";
import { BasePubSub, type StopFunction } from "@outrig/core/kit";
import { options } from "./options.ts";

/**
 * Every operation rejects with ERR_NOT_SUPPORTED until it is implemented. The base checks the
 * component is open, the topic and the handler before calling these methods, and stops a
 * subscription (through the function \`startSubscription\` returns) on abort or close.
 */
export class ${cls} extends BasePubSub {
  readonly componentType = "${type}";
  /** Declare a capability only once it works: the suite checks both ways. */
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set<PubSubCapability>();

  protected async publishMessage(_request: PublishRequest): Promise<void> {
    throw this.errors.notSupported("publish");
  }

  protected async startSubscription(
    _request: SubscribeRequest,
    _handler: MessageHandler,
  ): Promise<StopFunction> {
    throw this.errors.notSupported("subscribe");
  }

  protected override async onPing(): Promise<void> {
    throw this.errors.notSupported("ping");
  }
}

export async function ${factory}(metadata: Metadata = {}, _context?: ComponentContext): Promise<${cls}> {
  options.parse(metadata);
  return new ${cls}();
}
`;
    files["test/conformance.test.ts"] =
      `import { describePubSubConformance } from "@outrig/conformance";
import { ${factory} } from "../src/index.ts";

describePubSubConformance({
  name: "${backend}",
  create: () =>
    ${factory}({ connectionString: process.env.OUTRIG_TEST_${backend.toUpperCase().replaceAll("-", "_")}_URL ?? "" }),
});
`;
  }

  files["README.md"] = `# ${pkg}

\`\`\`sh
pnpm add ${pkg} @outrig/core
\`\`\`

\`${type}\` for outrig: TODO one paragraph on the backend and its guarantees.

## In-process

\`\`\`ts
import { ${factory} } from "${pkg}";

const component = await ${factory}({ connectionString: "..." });
\`\`\`

## As a sidecar component

\`\`\`yaml
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${kind === "state" ? "statestore" : "pubsub"}
spec:
  type: ${type}
  version: v1
  metadata:
    - name: connectionString
      value: "..."
\`\`\`

## Options

| name | type | default | required | sensitive | description |
| --- | --- | --- | --- | --- | --- |
| connectionString | string | | yes | yes | How to reach the ${backend} server. |

## Capabilities

| component | capabilities |
| --- | --- |
| ${type} | (none yet) |
`;
  return files;
}
