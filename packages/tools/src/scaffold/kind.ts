/**
 * The files of one component kind, the same whether it starts a new package or joins an existing
 * one: the stub (every operation rejects with ERR_NOT_SUPPORTED), its metadata schema, its
 * conformance test and its README section.
 */
import { camel, type KindNames, pascal, urlVariable } from "./names.ts";

export interface KindInput {
  names: KindNames;
  /** The test service the conformance test names (a folder of @outrig/conformance/services). */
  service?: string;
}

function optionsFile({ names }: KindInput): string {
  return `import { defineOptions, option } from "@outrig/core";

/** ${names.type} metadata: names follow Dapr's component so its YAML loads unchanged. */
export const ${names.options} = defineOptions("${names.type}", {
  connectionString: option.string({
    required: true,
    sensitive: true,
    description: "How to reach the ${names.backend} server.",
  }),
});
`;
}

const DESCRIPTION = "TODO: one sentence on what this component stores or delivers.";

function stateFile({ names }: KindInput): string {
  const n = names;
  return `import type {
  ComponentContext,
  DeleteRequest,
  GetRequest,
  GetResponse,
  Metadata,
  SetRequest,
  StateCapability,
  StateStoreDefinition,
} from "@outrig/core";
import { BaseStateStore } from "@outrig/core/kit";
import { ${n.options} } from "./${n.file}-options.ts";

const COMPONENT_TYPE = "${n.type}";

/**
 * Every operation rejects with ERR_NOT_SUPPORTED until it is implemented. The base checks the
 * store is open and the request is valid before calling these methods.
 */
export class ${n.cls} extends BaseStateStore {
  readonly componentType = COMPONENT_TYPE;
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

export async function ${n.factory}(
  metadata: Metadata = {},
  _context?: ComponentContext,
): Promise<${n.cls}> {
  ${n.options}.parse(metadata);
  return new ${n.cls}();
}

export const ${n.definition}: StateStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "state",
  version: "v1",
  status: "alpha",
  description: "${DESCRIPTION}",
  capabilities: [],
  options: ${n.options},
  create: ${n.factory},
};
`;
}

function pubsubFile({ names }: KindInput): string {
  const n = names;
  return `import type {
  ComponentContext,
  MessageHandler,
  Metadata,
  PublishRequest,
  PubSubCapability,
  PubSubDefinition,
  SubscribeRequest,
} from "@outrig/core";
import { BasePubSub, type StopFunction } from "@outrig/core/kit";
import { ${n.options} } from "./${n.file}-options.ts";

const COMPONENT_TYPE = "${n.type}";

/**
 * Every operation rejects with ERR_NOT_SUPPORTED until it is implemented. The base checks the
 * component is open, the topic and the handler before calling these methods, and stops a
 * subscription (through the function \`startSubscription\` returns) on abort or close.
 */
export class ${n.cls} extends BasePubSub {
  readonly componentType = COMPONENT_TYPE;
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

export async function ${n.factory}(
  metadata: Metadata = {},
  _context?: ComponentContext,
): Promise<${n.cls}> {
  ${n.options}.parse(metadata);
  return new ${n.cls}();
}

export const ${n.definition}: PubSubDefinition = {
  type: COMPONENT_TYPE,
  kind: "pubsub",
  version: "v1",
  status: "alpha",
  description: "${DESCRIPTION}",
  capabilities: [],
  options: ${n.options},
  create: ${n.factory},
};
`;
}

function bindingFile({ names }: KindInput): string {
  const n = names;
  return `import type {
  BindingDefinition,
  ComponentContext,
  InvokeRequest,
  InvokeResponse,
  Metadata,
} from "@outrig/core";
import { BaseOutputBinding } from "@outrig/core/kit";
import { ${n.options} } from "./${n.file}-options.ts";

const COMPONENT_TYPE = "${n.type}";

/**
 * An output binding that declares no operation yet, so the base rejects every invoke with
 * ERR_NOT_SUPPORTED. For an input side extend \`BaseInputBinding\` (or \`BaseBinding\` for both)
 * and implement \`startReading\`; the base checks the operation, the handler and that the binding
 * is open before calling these methods.
 */
export class ${n.cls} extends BaseOutputBinding {
  readonly componentType = COMPONENT_TYPE;

  /** Declare an operation only once it works: the suite checks both ways. */
  operations(): readonly string[] {
    return [];
  }

  protected async invokeOperation(
    operation: string,
    _request: InvokeRequest,
  ): Promise<InvokeResponse> {
    throw this.errors.notSupported(operation);
  }

  protected override async onPing(): Promise<void> {
    throw this.errors.notSupported("ping");
  }
}

export async function ${n.factory}(
  metadata: Metadata = {},
  _context?: ComponentContext,
): Promise<${n.cls}> {
  ${n.options}.parse(metadata);
  return new ${n.cls}();
}

export const ${n.definition}: BindingDefinition = {
  type: COMPONENT_TYPE,
  kind: "bindings",
  version: "v1",
  status: "alpha",
  description: "${DESCRIPTION}",
  capabilities: [],
  directions: ["output"],
  options: ${n.options},
  create: ${n.factory},
};
`;
}

/** Where the test finds the server, and the comment that says how to start it for real. */
function connection({ names, service }: KindInput): { imports: string; setup: string } {
  if (service) {
    const Svc = pascal(service);
    const definition = `${camel(service)}Definition`;
    return {
      imports: `import { ${definition} } from "@outrig/conformance/services";\n`,
      setup: `// The stub never connects, so the suite runs without a server and fails case by case with
// "not supported". Once an operation talks to ${service}, start it while the file is collected:
// \`const ${camel(service)} = await start${Svc}()\` (a container, or the running one
// ${definition}.override.variable names) and pass its url.
const connectionString = process.env[${definition}.override.variable] ?? "${service}://127.0.0.1";
`,
    };
  }
  return {
    imports: "",
    setup: `// The stub never connects, so the suite runs without a server and fails case by case with
// "not supported". Once an operation talks to ${names.backend}, start a test service from
// @outrig/conformance/services and pass its url.
const connectionString = process.env.${urlVariable(names.backend)} ?? "${names.backend}://127.0.0.1";
`,
  };
}

function conformanceTest(input: KindInput, from: string): string {
  const n = input.names;
  const { imports, setup } = connection(input);
  if (n.kind === "bindings") {
    return `import { describeBindingConformance } from "@outrig/conformance";
${imports}import { ${n.definition}, ${n.factory} } from "${from}";

${setup}
describeBindingConformance({
  name: "${n.backend}",
  definition: ${n.definition},
  createOutput: () => ${n.factory}({ connectionString }),
  // Dapr's tests.yml operations for this binding.
  operations: ["create"],
});
`;
  }
  const suite = n.kind === "state" ? "describeStateStoreConformance" : "describePubSubConformance";
  return `import { ${suite} } from "@outrig/conformance";
${imports}import { ${n.factory} } from "${from}";

${setup}
${suite}({
  name: "${n.backend}",
  create: () => ${n.factory}({ connectionString }),
});
`;
}

/** The README section of one kind: its type, a sidecar YAML, its options and capabilities. */
export function readmeSection({ names }: KindInput, heading: "##" | "###"): string {
  return `${heading} \`${names.type}\`

\`\`\`yaml
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${names.yamlName}
spec:
  type: ${names.type}
  version: v1
  metadata:
    - name: connectionString
      value: "..."
\`\`\`

| option | type | default | required | sensitive | description |
| --- | --- | --- | --- | --- | --- |
| connectionString | string | | yes | yes | How to reach the ${names.backend} server. |

${heading}# \`${names.type}\` capabilities

| capability | supported | notes |
| --- | --- | --- |
| (none yet) | | declare one only once its conformance cases pass |
`;
}

/** `src/<file>.ts`, `src/<file>-options.ts` and `test/<file>.conformance.test.ts`. */
export function renderKind(input: KindInput): Record<string, string> {
  const { file, kind } = input.names;
  const render = { state: stateFile, pubsub: pubsubFile, bindings: bindingFile }[kind];
  return {
    [`src/${file}.ts`]: render(input),
    [`src/${file}-options.ts`]: optionsFile(input),
    [`test/${file}.conformance.test.ts`]: conformanceTest(input, "../src/index.ts"),
  };
}

/** The line src/index.ts gets for this kind. */
export function indexExports({ names: n }: KindInput): string {
  return `export { ${n.cls}, ${n.definition}, ${n.factory} } from "./${n.file}.ts";\nexport { ${n.options} } from "./${n.file}-options.ts";\n`;
}
