import {
  type Component,
  ComponentError,
  type ConfigurationStore,
  type ConversationProvider,
  type CryptoProvider,
  encodeValue,
  type InputBinding,
  isOutputBinding,
  type LockStore,
  type Logger,
  type Metadata,
  type OutputBinding,
  type PubSub,
  type StateStore,
  silentLogger,
  toBytes,
} from "@outrig/core";
import {
  type ComponentSet,
  inScope,
  type LoadedComponent,
  type LoadedKind,
  loadComponents,
  resolveDefinition,
} from "./components/loader.ts";
import { lockKeyPrefixFor, PrefixedLockStore } from "./components/lock-keys.ts";
import {
  type AnyComponentDefinition,
  type ComponentRegistry,
  createRegistry,
} from "./components/registry.ts";
import type { SecretStore } from "./components/secretstores.ts";
import { keyPrefixFor, PrefixedStateStore } from "./components/state-keys.ts";
import { type BrokerMessage, brokerMessage, EnvelopeError } from "./messaging/cloudevent.ts";
import type { ComponentResource, Resources, SubscriptionResource } from "./resources/model.ts";
import { loadResources, mergeResources, parseResources } from "./resources/parse.ts";

export interface RuntimeOptions {
  appId: string;
  namespace?: string;
  /** YAML text with resources (several `---` documents), added after `resourcesPaths`. */
  resources?: string;
  resourcesPaths?: readonly string[];
  registry?: ComponentRegistry;
  logger?: Logger;
}

export interface PublishOptions {
  contentType?: string;
  metadata?: Metadata;
  /** Send the bytes as they are, without a CloudEvent envelope. */
  rawPayload?: boolean;
  traceparent?: string;
  tracestate?: string;
}

/**
 * The loaded components of one app, usable in-process (library mode) or behind the sidecar.
 * `resources`, `components` and `subscriptions` are the current ones: hot reload changes them.
 */
export interface Runtime {
  readonly appId: string;
  readonly namespace: string | undefined;
  readonly resources: Resources;
  readonly components: readonly LoadedComponent[];
  /** Declarative subscriptions that apply to this app. */
  readonly subscriptions: readonly SubscriptionResource[];
  /** The named state store, seen through this app's key prefix. */
  stateStore(name: string): PrefixedStateStore;
  pubsub(name: string): PubSub;
  binding(name: string): Component & Partial<InputBinding & OutputBinding>;
  secretStore(name: string): SecretStore;
  configurationStore(name: string): ConfigurationStore;
  cryptoProvider(name: string): CryptoProvider;
  /** The named lock store, seen through this app's lock key prefix (as daprd's). */
  lockStore(name: string): PrefixedLockStore;
  conversation(name: string): ConversationProvider;
  has(kind: LoadedKind, name: string): boolean;
  names(kind: LoadedKind): string[];
  /** Publishes as the sidecar does: wrapped in a CloudEvent unless `rawPayload`. */
  publish(
    pubsubName: string,
    topic: string,
    data: unknown,
    options?: PublishOptions,
  ): Promise<void>;
  invokeBinding(
    name: string,
    operation: string,
    data?: unknown,
    metadata?: Metadata,
  ): ReturnType<OutputBinding["invoke"]>;
  close(): Promise<void>;
}

/**
 * What hot reload needs of a runtime: its component table, changed in place. Every accessor of
 * the runtime reads the table on each call, so a put or drop applies to the next call.
 */
export interface ComponentTable extends Pick<ComponentSet, "init" | "put" | "drop" | "retire"> {
  readonly options: RuntimeOptions;
  readonly registry: ComponentRegistry;
  /** The definition for `c`, or a ConfigError naming its file and `spec.type`/`spec.version`. */
  resolve(c: ComponentResource): Promise<AnyComponentDefinition>;
  setResources(resources: Resources): void;
}

const tables = new WeakMap<Runtime, ComponentTable>();

/** The component table of a runtime `createRuntime` made (not of a wrapped view of one). */
export function componentTable(runtime: Runtime): ComponentTable | undefined {
  return tables.get(runtime);
}

/** Loads resources and initialises every component in scope for `appId`. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? silentLogger;
  const parts: Resources[] = [];
  if (options.resourcesPaths?.length) {
    // As daprd: a resources path that does not exist (e.g. the default one) is warned about.
    const onMissing = (path: string) =>
      logger.warn("resources path does not exist; skipped", { path });
    parts.push(await loadResources(options.resourcesPaths, { onMissing }));
  }
  if (options.resources) parts.push(parseResources(options.resources, "<resources>"));
  const resources = mergeResources(...parts);
  const registry = options.registry ?? createRegistry();
  const { appId, namespace } = options;

  const components = await loadComponents(resources, {
    appId,
    namespace,
    registry,
    logger,
  });
  let current = resources;
  const prefixed = new Map<string, PrefixedStateStore>();
  const prefixedLocks = new Map<string, PrefixedLockStore>();
  // The key-prefixed views are built once per component; a replaced one gets new ones.
  components.onChange((kind, name) => {
    if (kind === "state") prefixed.delete(name);
    if (kind === "lock") prefixedLocks.delete(name);
  });
  const lookup = (kind: LoadedKind, name: string): LoadedComponent => components.lookup(kind, name);

  const runtime: Runtime = {
    appId,
    namespace,
    get resources() {
      return current;
    },
    get components() {
      return components.loaded;
    },
    get subscriptions() {
      return current.subscriptions.filter((s) => inScope(s.scopes, appId));
    },
    stateStore(name) {
      let view = prefixed.get(name);
      if (!view) {
        const entry = lookup("state", name);
        view = new PrefixedStateStore(
          entry.instance as StateStore,
          keyPrefixFor(entry.metadata, name, appId, namespace),
        );
        prefixed.set(name, view);
      }
      return view;
    },
    pubsub: (name) => lookup("pubsub", name).instance as PubSub,
    binding: (name) =>
      lookup("bindings", name).instance as Component & Partial<InputBinding & OutputBinding>,
    secretStore: (name) => lookup("secretstores", name).instance as SecretStore,
    configurationStore: (name) => lookup("configuration", name).instance as ConfigurationStore,
    cryptoProvider: (name) => lookup("crypto", name).instance as CryptoProvider,
    lockStore(name) {
      let view = prefixedLocks.get(name);
      if (!view) {
        const entry = lookup("lock", name);
        view = new PrefixedLockStore(
          entry.instance as LockStore,
          lockKeyPrefixFor(entry.metadata, name, appId),
        );
        prefixedLocks.set(name, view);
      }
      return view;
    },
    conversation: (name) => lookup("conversation", name).instance as ConversationProvider,
    has: (kind, name) => components.get(kind, name) !== undefined,
    names: (kind) => components.loaded.filter((l) => l.kind === kind).map((l) => l.name),
    async publish(pubsubName, topic, data, opts = {}) {
      const pubsub = runtime.pubsub(pubsubName);
      const bytes =
        data instanceof Uint8Array
          ? data
          : typeof data === "string"
            ? toBytes(data)
            : encodeValue(data);
      const contentType =
        opts.contentType ??
        (data instanceof Uint8Array
          ? "application/octet-stream"
          : typeof data === "string"
            ? "text/plain"
            : "application/json");
      const raw = opts.rawPayload === true;
      let message: BrokerMessage;
      try {
        message = brokerMessage({
          topic,
          pubsubName,
          source: appId,
          data: bytes,
          contentType,
          metadata: raw ? { ...opts.metadata, rawPayload: "true" } : { ...opts.metadata },
          traceparent: opts.traceparent,
          tracestate: opts.tracestate,
          raw,
          brokerTtl: pubsub.capabilities.has("MESSAGE_TTL"),
        });
      } catch (error) {
        // Library mode throws what the metadata or the payload itself failed with.
        throw error instanceof EnvelopeError ? error.cause : error;
      }
      await pubsub.publish({ topic, ...message });
    },
    async invokeBinding(name, operation, data, metadata) {
      const binding = runtime.binding(name);
      if (!isOutputBinding(binding)) {
        throw new ComponentError("ERR_NOT_SUPPORTED", `binding ${name} is not an output binding`);
      }
      return binding.invoke({
        operation,
        ...(data === undefined
          ? {}
          : { data: data instanceof Uint8Array ? data : encodeValue(data) }),
        metadata: { ...metadata },
      });
    },
    close: () => components.close(),
  };
  tables.set(
    runtime,
    tableOf(components, options, registry, (next) => {
      current = next;
    }),
  );
  return runtime;
}

function tableOf(
  components: ComponentSet,
  options: RuntimeOptions,
  registry: ComponentRegistry,
  setResources: (resources: Resources) => void,
): ComponentTable {
  return {
    options,
    registry,
    resolve: (c) => resolveDefinition(registry, c),
    init: (c, definition) => components.init(c, definition),
    put: (entry) => components.put(entry),
    drop: (kind, name) => components.drop(kind, name),
    retire: (entry, timeoutMs) => components.retire(entry, timeoutMs),
    setResources,
  };
}
