import { readFile } from "node:fs/promises";
import {
  type Component,
  type ComponentContext,
  ComponentError,
  defineOptions,
  type Metadata,
  option,
} from "@outrig/core";

/** A secret store: a secret is a map of keys to values (single-value stores use `{name: value}`). */
export interface SecretStore extends Component {
  /** `undefined` when the secret does not exist. */
  get(name: string, metadata?: Metadata): Promise<Record<string, string> | undefined>;
  bulkGet(metadata?: Metadata): Promise<Record<string, Record<string, string>>>;
}

export interface SecretStoreDefinition {
  type: string;
  aliases?: readonly string[];
  kind: "secretstores";
  version: string;
  status: "alpha" | "beta" | "stable";
  description: string;
  capabilities: readonly string[];
  options: ReturnType<typeof defineOptions>;
  create(metadata: Metadata, context?: ComponentContext): Promise<SecretStore>;
}

const envOptions = defineOptions("secretstores.local.env", {
  prefix: option.string({
    description: "Only variables starting with this prefix are visible, without it",
    default: "",
  }),
});

class EnvSecretStore implements SecretStore {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }
  async get(name: string): Promise<Record<string, string> | undefined> {
    const value = process.env[this.#prefix + name];
    return value === undefined ? undefined : { [name]: value };
  }
  async bulkGet(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v === undefined || !k.startsWith(this.#prefix)) continue;
      const name = k.slice(this.#prefix.length);
      if (name) out[name] = { [name]: v };
    }
    return out;
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

const fileOptions = defineOptions("secretstores.local.file", {
  secretsFile: option.string({
    required: true,
    description: "Path of the JSON file holding the secrets",
  }),
  nestedSeparator: option.string({
    default: ":",
    description: "Joins nested keys into one secret name",
  }),
  multiValued: option.boolean({
    default: false,
    description: "Top-level keys are secrets whose nested keys are their values",
  }),
});

class FileSecretStore implements SecretStore {
  readonly #secrets: Map<string, Record<string, string>>;
  constructor(secrets: Map<string, Record<string, string>>) {
    this.#secrets = secrets;
  }
  async get(name: string): Promise<Record<string, string> | undefined> {
    return this.#secrets.get(name);
  }
  async bulkGet(): Promise<Record<string, Record<string, string>>> {
    return Object.fromEntries(this.#secrets);
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

function flatten(
  value: unknown,
  prefix: string,
  separator: string,
  out: Map<string, string>,
): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value))
      flatten(v, prefix ? `${prefix}${separator}${k}` : k, separator, out);
  } else {
    out.set(prefix, typeof value === "string" ? value : JSON.stringify(value));
  }
}

export const envSecretStoreDefinition: SecretStoreDefinition = {
  type: "secretstores.local.env",
  kind: "secretstores",
  version: "v1",
  status: "stable",
  description: "Secrets from the sidecar's environment variables",
  capabilities: [],
  options: envOptions,
  async create(metadata) {
    return new EnvSecretStore(envOptions.parse(metadata).prefix);
  },
};

export const fileSecretStoreDefinition: SecretStoreDefinition = {
  type: "secretstores.local.file",
  kind: "secretstores",
  version: "v1",
  status: "stable",
  description: "Secrets from a local JSON file (development only)",
  capabilities: [],
  options: fileOptions,
  async create(metadata) {
    const opts = fileOptions.parse(metadata);
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(opts.secretsFile, "utf8"));
    } catch (cause) {
      throw new ComponentError(
        "ERR_CONFIG_INVALID",
        `cannot read secretsFile ${opts.secretsFile}`,
        {
          component: "secretstores.local.file",
          cause,
        },
      );
    }
    const secrets = new Map<string, Record<string, string>>();
    if (opts.multiValued && doc !== null && typeof doc === "object") {
      for (const [name, v] of Object.entries(doc)) {
        const inner = new Map<string, string>();
        flatten(v, "", opts.nestedSeparator, inner);
        secrets.set(
          name,
          Object.fromEntries(inner.has("") ? [[name, inner.get("") as string]] : inner),
        );
      }
    } else {
      const flat = new Map<string, string>();
      flatten(doc, "", opts.nestedSeparator, flat);
      for (const [k, v] of flat) secrets.set(k, { [k]: v });
    }
    return new FileSecretStore(secrets);
  },
};

export function isSecretStore(c: unknown): c is SecretStore {
  return (
    typeof (c as SecretStore | undefined)?.bulkGet === "function" &&
    typeof (c as SecretStore).get === "function"
  );
}
