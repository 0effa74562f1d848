import {
  type Component,
  ComponentError,
  ConfigError,
  type ConfigIssue,
  type ConfigurationStore,
  type ConversationProvider,
  type CryptoProvider,
  encodeValue,
  type InputBinding,
  isInputBinding,
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
import { unimplementedKindOf } from "./api/errors.ts";
import { type CountedComponent, countCalls } from "./components/in-flight.ts";
import { lockKeyPrefixFor, PrefixedLockStore } from "./components/lock-keys.ts";
import {
  type AnyComponentDefinition,
  type ComponentRegistry,
  createRegistry,
} from "./components/registry.ts";
import type { SecretStore } from "./components/secretstores.ts";
import { startupFailure } from "./components/startup-errors.ts";
import { keyPrefixFor, PrefixedStateStore } from "./components/state-keys.ts";
import { type BrokerMessage, brokerMessage, EnvelopeError } from "./messaging/cloudevent.ts";
import { resolveComponentMetadata } from "./resources/metadata.ts";
import type { ComponentResource, Resources, SubscriptionResource } from "./resources/model.ts";
import { loadResources, locate, mergeResources, parseResources } from "./resources/parse.ts";

export type LoadedKind =
  | "state"
  | "pubsub"
  | "bindings"
  | "secretstores"
  | "crypto"
  | "configuration"
  | "lock"
  | "conversation";

export interface LoadedComponent {
  name: string;
  type: string;
  version: string;
  kind: LoadedKind;
  capabilities: string[];
  instance: Component;
  resource: ComponentResource;
  /** Component metadata after expansion; holds secrets, so never log or expose it. */
  metadata: Metadata;
  /** Milliseconds the component took to initialise. */
  initMs: number;
}

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

function kindOf(definition: AnyComponentDefinition): LoadedKind {
  return definition.kind;
}

/**
 * What hot reload needs of a runtime: its component table, changed in place. Every accessor of
 * the runtime reads the table on each call, so a put or drop applies to the next call.
 */
export interface ComponentTable {
  readonly options: RuntimeOptions;
  readonly registry: ComponentRegistry;
  /** The definition for `c`, or a ConfigError naming its file and `spec.type`/`spec.version`. */
  resolve(c: ComponentResource): Promise<AnyComponentDefinition>;
  /** Initialises `c` (not registered yet); a failure names the file and field, as at start-up. */
  init(c: ComponentResource, definition: AnyComponentDefinition): Promise<LoadedComponent>;
  /** Registers `entry`, replacing the component of its kind and name; returns that one. */
  put(entry: LoadedComponent): LoadedComponent | undefined;
  /** Unregisters the component of that kind and name; returns it. */
  drop(kind: LoadedKind, name: string): LoadedComponent | undefined;
  /**
   * Closes an unregistered component once the calls in flight on it finished, waiting at most
   * `timeoutMs`; resolves false when some were still running then.
   */
  retire(entry: LoadedComponent, timeoutMs: number): Promise<boolean>;
  setResources(resources: Resources): void;
}

const tables = new WeakMap<Runtime, ComponentTable>();

/** The component table of a runtime `createRuntime` made (not of a wrapped view of one). */
export function componentTable(runtime: Runtime): ComponentTable | undefined {
  return tables.get(runtime);
}

export function inScope(scopes: readonly string[], appId: string): boolean {
  return scopes.length === 0 || scopes.includes(appId);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ComponentError("ERR_TIMEOUT", `${what} did not initialise within ${ms}ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Re-anchors the registry's issues (`spec.type`, `spec.version`) to the YAML file and line. */
function locateResolveIssues(error: ConfigError, c: ComponentResource): ConfigIssue[] {
  return error.issues.map((i) => ({
    field: locate(c.source, `${c.name} (${c.type}) ${i.field}`, c.fieldLines[i.field]),
    message: i.message,
  }));
}

/** Re-anchors a component's ConfigError issues to the YAML file, document and metadata line. */
function locateIssues(error: unknown, resource: ComponentResource): unknown {
  if (!(error instanceof ConfigError)) return error;
  const issues: ConfigIssue[] = error.issues.map((i) =>
    i.field.includes("[document ")
      ? i
      : {
          field: locate(
            resource.source,
            `${resource.name} (${resource.type}) spec.metadata.${i.field}`,
            // A missing field has no line of its own: point at the metadata list, else the spec block.
            resource.metadataLines[i.field] ??
              resource.fieldLines["spec.metadata"] ??
              resource.fieldLines.spec,
          ),
          message: i.message,
        },
  );
  return new ConfigError(issues, { component: resource.name, cause: error });
}

function capabilitiesOf(instance: Component, definition: AnyComponentDefinition): string[] {
  const caps = (instance as { capabilities?: ReadonlySet<string> }).capabilities;
  const out = caps ? [...caps] : [];
  if (definition.kind === "state") {
    // As daprd lists them: ACTOR for every store with ETags and transactions, last, whether or
    // not it is the actor state store (actorStateStore picks that one, not the listing).
    const listed = out.filter((c) => c !== "ACTOR");
    if (listed.includes("ETAG") && listed.includes("TRANSACTIONAL")) listed.push("ACTOR");
    return listed;
  }
  if (definition.kind === "bindings") {
    if (isInputBinding(instance)) out.push("INPUT_BINDING");
    if (isOutputBinding(instance)) out.push("OUTPUT_BINDING");
  }
  return out;
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

  const wanted = resources.components.filter((c) => inScope(c.scopes, appId));
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, ComponentResource>();
  for (const c of wanted) {
    const key = `${c.type.split(".")[0]}/${c.name}`;
    const prior = seen.get(key);
    if (prior) {
      issues.push({
        field: locate(c.source, "metadata.name", c.fieldLines["metadata.name"]),
        message: `component ${c.name} is already defined in ${prior.source.file} [document ${prior.source.document}]`,
      });
    }
    seen.set(key, c);
  }
  const definitions = new Map<ComponentResource, AnyComponentDefinition>();
  await Promise.all(
    wanted.map(async (c) => {
      try {
        definitions.set(c, await registry.resolve(c.type, c.version));
      } catch (error) {
        const unbuilt = error instanceof ConfigError ? unimplementedKindOf(c.type) : undefined;
        if (unbuilt) {
          // A Dapr resources folder often holds such components: the sidecar still starts,
          // and the building block's API answers 501 naming it.
          logger.warn(
            `component ${c.name} (${c.type}) skipped: the ${unbuilt} building block is not implemented by outrig`,
            { component: c.name, type: c.type, source: c.source.file },
          );
          return;
        }
        if (c.ignoreErrors) {
          logger.warn("component skipped (ignoreErrors)", {
            component: c.name,
            type: c.type,
            error: (error as Error).message,
          });
          return;
        }
        if (error instanceof ConfigError) issues.push(...locateResolveIssues(error, c));
        else throw error;
      }
    }),
  );
  if (issues.length > 0) throw new ConfigError(issues, { component: "resources" });

  let current = resources;
  let loaded: LoadedComponent[] = [];
  const byKind = new Map<string, LoadedComponent>();
  const counters = new WeakMap<LoadedComponent, CountedComponent>();
  const prefixed = new Map<string, PrefixedStateStore>();
  const prefixedLocks = new Map<string, PrefixedLockStore>();
  /** Drops the views built over a component that was replaced or removed. */
  const forget = (kind: LoadedKind, name: string): void => {
    if (kind === "state") prefixed.delete(name);
    if (kind === "lock") prefixedLocks.delete(name);
  };
  const closing = new Map<LoadedComponent, Promise<void>>();
  /** Replaced or removed components not closed yet: close() closes them too. */
  const retired = new Set<LoadedComponent>();
  const closeOnce = (entry: LoadedComponent): Promise<void> => {
    let done = closing.get(entry);
    if (!done) {
      const target = counters.get(entry)?.target ?? entry.instance;
      done = Promise.resolve()
        .then(() => target.close())
        .catch((error: unknown) => {
          logger.warn("component failed to close", {
            name: entry.name,
            type: entry.type,
            error: (error as Error).message,
          });
        });
      closing.set(entry, done);
    }
    return done;
  };
  const index = (kind: LoadedKind, name: string): string => `${kind}/${name}`;

  const secret = async (store: string, name: string, key: string): Promise<string | undefined> => {
    const s = byKind.get(index("secretstores", store));
    if (!s) throw new ComponentError("ERR_NOT_FOUND", `secret store ${store} is not loaded`);
    return (await (s.instance as SecretStore).get(name))?.[key];
  };

  const init = async (
    c: ComponentResource,
    definition: AnyComponentDefinition,
  ): Promise<LoadedComponent> => {
    const began = performance.now();
    let metadata: Metadata | undefined;
    try {
      metadata = await resolveComponentMetadata(c, {
        appId,
        ...(namespace ? { namespace } : {}),
        secret,
      });
      const resolved = metadata;
      const create = async (): Promise<Component> => {
        // daprd refuses a lock keyPrefix it could not build keys from before the store starts.
        if (definition.kind === "lock") lockKeyPrefixFor(resolved, c.name, appId);
        return (definition.create as (m: Metadata, ctx: object) => Promise<Component>)(resolved, {
          name: c.name,
          appId,
          logger,
        });
      };
      const instance = await withTimeout(
        create(),
        c.initTimeoutMs,
        `component ${c.name} (${c.type})`,
      ).catch((e: unknown) => {
        throw locateIssues(e, c);
      });
      const counted = countCalls(instance);
      const entry: LoadedComponent = {
        name: c.name,
        type: c.type,
        version: c.version,
        kind: kindOf(definition),
        capabilities: capabilitiesOf(instance, definition),
        instance: counted.instance,
        resource: c,
        metadata: metadata as Metadata,
        initMs: performance.now() - began,
      };
      counters.set(entry, counted);
      return entry;
    } catch (caught) {
      throw startupFailure(caught, c, metadata);
    }
  };

  const put = (entry: LoadedComponent): LoadedComponent | undefined => {
    const key = index(entry.kind, entry.name);
    const prior = byKind.get(key);
    byKind.set(key, entry);
    loaded = prior ? loaded.map((l) => (l === prior ? entry : l)) : [...loaded, entry];
    forget(entry.kind, entry.name);
    return prior;
  };

  const start = async (c: ComponentResource): Promise<void> => {
    const definition = definitions.get(c);
    if (!definition) return;
    try {
      const entry = await init(c, definition);
      put(entry);
      logger.info("component loaded", {
        name: c.name,
        type: c.type,
        version: c.version,
        ms: Math.round(entry.initMs),
      });
    } catch (error) {
      if (c.ignoreErrors) {
        logger.warn("component failed to start and is skipped (ignoreErrors)", {
          name: c.name,
          type: c.type,
          error: (error as Error).message,
        });
        return;
      }
      throw error;
    }
  };

  // Secret stores first: other components' secretKeyRefs read them.
  const secretStores = wanted.filter((c) => definitions.get(c)?.kind === "secretstores");
  const others = wanted.filter(
    (c) => definitions.has(c) && definitions.get(c)?.kind !== "secretstores",
  );
  try {
    await settleAll(secretStores.map(start));
    await settleAll(others.map(start));
  } catch (error) {
    await Promise.allSettled(loaded.map(closeOnce));
    throw error;
  }

  const lookup = (kind: LoadedKind, name: string): LoadedComponent => {
    const entry = byKind.get(index(kind, name));
    if (!entry)
      throw new ComponentError("ERR_NOT_FOUND", `${kind} component ${name} is not configured`, {
        details: { kind, name },
      });
    return entry;
  };

  let closed: Promise<void> | undefined;
  const runtime: Runtime = {
    appId,
    namespace,
    get resources() {
      return current;
    },
    get components() {
      return loaded;
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
    has: (kind, name) => byKind.has(index(kind, name)),
    names: (kind) => loaded.filter((l) => l.kind === kind).map((l) => l.name),
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
    close() {
      closed ??= Promise.allSettled([...loaded, ...retired].map(closeOnce)).then(() => undefined);
      return closed;
    },
  };
  tables.set(runtime, {
    options,
    registry,
    async resolve(c) {
      try {
        return await registry.resolve(c.type, c.version);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        const unbuilt = unimplementedKindOf(c.type);
        if (unbuilt)
          throw new ConfigError(
            [
              {
                field: locate(c.source, `${c.name} spec.type`, c.fieldLines["spec.type"]),
                message: `the ${unbuilt} building block is not implemented by outrig`,
              },
            ],
            { component: c.name },
          );
        throw new ConfigError(locateResolveIssues(error, c), { component: c.name });
      }
    },
    init,
    put,
    drop(kind, name) {
      const key = index(kind, name);
      const prior = byKind.get(key);
      if (!prior) return undefined;
      byKind.delete(key);
      loaded = loaded.filter((l) => l !== prior);
      forget(kind, name);
      return prior;
    },
    async retire(entry, timeoutMs) {
      retired.add(entry);
      const idle = (await counters.get(entry)?.idle(timeoutMs)) ?? true;
      await closeOnce(entry);
      retired.delete(entry);
      return idle;
    },
    setResources(next) {
      current = next;
    },
  });
  return runtime;
}

/** Waits for every promise, then rethrows the first failure (so nothing is left starting). */
async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const issues: ConfigIssue[] = [];
  let other: unknown;
  for (const r of results) {
    if (r.status === "rejected") {
      if (r.reason instanceof ConfigError) issues.push(...r.reason.issues);
      else other ??= r.reason;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, { component: "resources" });
  if (other !== undefined) throw other;
}
