import {
  type Component,
  ComponentError,
  type ComponentKind,
  ConfigError,
  type ConfigIssue,
  isInputBinding,
  isOutputBinding,
  type Logger,
  type Metadata,
} from "@outrig/core";
import { unimplementedKindOf } from "../api/errors.ts";
import { resolveComponentMetadata } from "../resources/metadata.ts";
import type { ComponentResource, Resources } from "../resources/model.ts";
import { locate } from "../resources/parse.ts";
import { withoutDenied } from "./deny-list.ts";
import { type CountedComponent, countCalls } from "./in-flight.ts";
import { lockKeyPrefixFor } from "./lock-keys.ts";
import type { AnyComponentDefinition, ComponentRegistry } from "./registry.ts";
import type { SecretStore } from "./secretstores.ts";
import { startupFailure } from "./startup-errors.ts";

/** The building block a loaded component serves (core's `ComponentKind`). */
export type LoadedKind = ComponentKind;

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

/** Who the components are loaded for: their scopes, key prefixes and secret references. */
export interface LoadTarget {
  appId: string;
  namespace?: string | undefined;
  registry: ComponentRegistry;
  logger: Logger;
}

export function inScope(scopes: readonly string[], appId: string): boolean {
  return scopes.length === 0 || scopes.includes(appId);
}

/**
 * The components of one app by kind and name: initialised from their resources, replaced or
 * dropped by hot reload, and closed once each (a replaced one after its calls in flight).
 */
export class ComponentSet {
  readonly #target: LoadTarget;
  #loaded: LoadedComponent[] = [];
  readonly #byKind = new Map<string, LoadedComponent>();
  readonly #counters = new WeakMap<LoadedComponent, CountedComponent>();
  readonly #closing = new Map<LoadedComponent, Promise<void>>();
  /** Replaced or removed components not closed yet: close() closes them too. */
  readonly #retired = new Set<LoadedComponent>();
  readonly #onChange: ((kind: LoadedKind, name: string) => void)[] = [];
  #closed: Promise<void> | undefined;

  constructor(target: LoadTarget) {
    this.#target = target;
  }

  get loaded(): readonly LoadedComponent[] {
    return this.#loaded;
  }

  /** Called when the component of a kind and name was replaced or removed. */
  onChange(listener: (kind: LoadedKind, name: string) => void): void {
    this.#onChange.push(listener);
  }

  get(kind: LoadedKind, name: string): LoadedComponent | undefined {
    return this.#byKind.get(`${kind}/${name}`);
  }

  /** The component, or ERR_NOT_FOUND naming the kind and name. */
  lookup(kind: LoadedKind, name: string): LoadedComponent {
    const entry = this.get(kind, name);
    if (!entry)
      throw new ComponentError("ERR_NOT_FOUND", `${kind} component ${name} is not configured`, {
        details: { kind, name },
      });
    return entry;
  }

  async init(c: ComponentResource, definition: AnyComponentDefinition): Promise<LoadedComponent> {
    const { appId, namespace, logger } = this.#target;
    const began = performance.now();
    let metadata: Metadata | undefined;
    try {
      metadata = await resolveComponentMetadata(c, {
        appId,
        ...(namespace ? { namespace } : {}),
        secret: (store, name, key) => this.#secret(store, name, key),
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
        kind: definition.kind,
        capabilities: capabilitiesOf(instance, definition),
        instance: counted.instance,
        resource: c,
        metadata: metadata as Metadata,
        initMs: performance.now() - began,
      };
      this.#counters.set(entry, counted);
      return entry;
    } catch (caught) {
      throw startupFailure(caught, c, metadata);
    }
  }

  put(entry: LoadedComponent): LoadedComponent | undefined {
    const key = `${entry.kind}/${entry.name}`;
    const prior = this.#byKind.get(key);
    this.#byKind.set(key, entry);
    this.#loaded = prior
      ? this.#loaded.map((l) => (l === prior ? entry : l))
      : [...this.#loaded, entry];
    this.#changed(entry.kind, entry.name);
    return prior;
  }

  drop(kind: LoadedKind, name: string): LoadedComponent | undefined {
    const key = `${kind}/${name}`;
    const prior = this.#byKind.get(key);
    if (!prior) return undefined;
    this.#byKind.delete(key);
    this.#loaded = this.#loaded.filter((l) => l !== prior);
    this.#changed(kind, name);
    return prior;
  }

  async retire(entry: LoadedComponent, timeoutMs: number): Promise<boolean> {
    this.#retired.add(entry);
    const idle = (await this.#counters.get(entry)?.idle(timeoutMs)) ?? true;
    await this.#closeOnce(entry);
    this.#retired.delete(entry);
    return idle;
  }

  /** Initialises and registers `c`; with `ignoreErrors` a failure is logged and skipped. */
  async start(c: ComponentResource, definition: AnyComponentDefinition): Promise<void> {
    const { logger } = this.#target;
    try {
      const entry = await this.init(c, definition);
      this.put(entry);
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
  }

  close(): Promise<void> {
    this.#closed ??= Promise.allSettled(
      [...this.#loaded, ...this.#retired].map((e) => this.#closeOnce(e)),
    ).then(() => undefined);
    return this.#closed;
  }

  #changed(kind: LoadedKind, name: string): void {
    for (const listener of this.#onChange) listener(kind, name);
  }

  async #secret(store: string, name: string, key: string): Promise<string | undefined> {
    const s = this.get("secretstores", store);
    if (!s) throw new ComponentError("ERR_NOT_FOUND", `secret store ${store} is not loaded`);
    return (await (s.instance as SecretStore).get(name))?.[key];
  }

  #closeOnce(entry: LoadedComponent): Promise<void> {
    let done = this.#closing.get(entry);
    if (!done) {
      const target = this.#counters.get(entry)?.target ?? entry.instance;
      done = Promise.resolve()
        .then(() => target.close())
        .catch((error: unknown) => {
          this.#target.logger.warn("component failed to close", {
            name: entry.name,
            type: entry.type,
            error: (error as Error).message,
          });
        });
      this.#closing.set(entry, done);
    }
    return done;
  }
}

/**
 * Resolves every component of `resources` in scope for the target and starts them, secret
 * stores first (other components' secretKeyRefs read them). A component of a building block
 * outrig does not implement is skipped with a warning, as its API answers 501; every other
 * problem is reported at once, naming its file and line.
 */
export async function loadComponents(
  resources: Resources,
  target: LoadTarget,
): Promise<ComponentSet> {
  const { appId, registry, logger } = target;
  const wanted = withoutDenied(
    resources.components.filter((c) => inScope(c.scopes, appId)),
    resources.configurations,
    logger,
  );
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

  const set = new ComponentSet(target);
  const startAll = (kinds: (kind: LoadedKind) => boolean) =>
    settleAll(
      wanted.flatMap((c) => {
        const definition = definitions.get(c);
        return definition && kinds(definition.kind) ? [set.start(c, definition)] : [];
      }),
    );
  try {
    await startAll((kind) => kind === "secretstores");
    await startAll((kind) => kind !== "secretstores");
  } catch (error) {
    await set.close();
    throw error;
  }
  return set;
}

/** The definition for `c` as hot reload asks for it: errors name the file and `spec.type`. */
export async function resolveDefinition(
  registry: ComponentRegistry,
  c: ComponentResource,
): Promise<AnyComponentDefinition> {
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
