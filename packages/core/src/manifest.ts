import type { BindingDirection, InputBinding, OutputBinding } from "./bindings.ts";
import type { Component, ComponentContext, ComponentKind } from "./component.ts";
import type { ConfigurationStore } from "./configuration.ts";
import type { ConversationProvider } from "./conversation.ts";
import type { CryptoProvider } from "./crypto.ts";
import type { LockStore } from "./lock.ts";
import type { Metadata } from "./metadata.ts";
import type { OptionFields, OptionsSchema } from "./options.ts";
import type { PubSub } from "./pubsub.ts";
import type { StateStore } from "./state.ts";

export type ComponentStatus = "alpha" | "beta" | "stable";

interface DefinitionBase<K extends ComponentKind, C extends Component> {
  /** Dapr's component type, e.g. `state.redis`. */
  type: string;
  /** Other names Dapr registers the same component under, e.g. `bindings.postgres`. */
  aliases?: readonly string[];
  kind: K;
  /** Dapr's component version string, e.g. `v1`. */
  version: string;
  status: ComponentStatus;
  description: string;
  /** The capabilities this type can declare; an instance declares its own at run time. */
  capabilities: readonly string[];
  options: OptionsSchema<OptionFields>;
  create(metadata: Metadata, context?: ComponentContext): Promise<C>;
}

export type StateStoreDefinition = DefinitionBase<"state", StateStore>;
export type PubSubDefinition = DefinitionBase<"pubsub", PubSub>;
export interface BindingDefinition
  extends DefinitionBase<"bindings", Component & Partial<InputBinding & OutputBinding>> {
  directions: readonly BindingDirection[];
}

export type CryptoProviderDefinition = DefinitionBase<"crypto", CryptoProvider>;
export type ConfigurationStoreDefinition = DefinitionBase<"configuration", ConfigurationStore>;
export type LockStoreDefinition = DefinitionBase<"lock", LockStore>;
export type ConversationDefinition = DefinitionBase<"conversation", ConversationProvider>;

export type ComponentDefinition =
  | StateStoreDefinition
  | PubSubDefinition
  | BindingDefinition
  | CryptoProviderDefinition
  | ConfigurationStoreDefinition
  | LockStoreDefinition
  | ConversationDefinition;

/** What a component package exports as `manifest`; the runtime's registry is built from these. */
export interface PackageManifest {
  /** The npm package name, e.g. `@outrig/redis`. */
  packageName: string;
  version: string;
  components: readonly ComponentDefinition[];
}

export function defineManifest(manifest: PackageManifest): PackageManifest {
  const seen = new Set<string>();
  for (const c of manifest.components) {
    const id = `${c.type}/${c.version}`;
    if (seen.has(id)) throw new Error(`${manifest.packageName}: duplicate component ${id}`);
    seen.add(id);
  }
  return Object.freeze(manifest);
}
