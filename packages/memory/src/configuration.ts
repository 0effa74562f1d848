import { randomUUID } from "node:crypto";
import {
  type ComponentContext,
  type ConfigurationHandler,
  type ConfigurationItem,
  type ConfigurationStore,
  type ConfigurationStoreDefinition,
  defineOptions,
  type Logger,
  type Metadata,
  silentLogger,
  UpdateQueue,
} from "@outrig/core";
import { BaseComponent } from "@outrig/core/kit";

const COMPONENT_TYPE = "configuration.in-memory";

/** Dapr has no in-memory configuration store; it reads no metadata (unknown keys are ignored). */
export const configurationOptions = defineOptions(COMPONENT_TYPE, {});

interface Watch {
  keys: ReadonlySet<string>;
  queue: UpdateQueue;
}

/**
 * A configuration store in the process's memory, written by the app (library mode) or by tests
 * through `set` and `delete`; every write reaches the subscriptions watching its key, in order.
 */
export class MemoryConfigurationStore extends BaseComponent implements ConfigurationStore {
  readonly componentType = COMPONENT_TYPE;
  protected override readonly closedMessage = "the store is closed";
  readonly #items = new Map<string, ConfigurationItem>();
  readonly #watches = new Map<string, Watch>();
  readonly #logger: Logger;

  constructor(context?: ComponentContext) {
    super();
    this.#logger = context?.logger ?? silentLogger;
  }

  async get(
    keys: readonly string[],
    _metadata?: Metadata,
  ): Promise<Record<string, ConfigurationItem>> {
    this.checkOpen();
    const out: Record<string, ConfigurationItem> = {};
    const wanted = keys.length > 0 ? keys : [...this.#items.keys()];
    for (const key of wanted) {
      const item = this.#items.get(key);
      if (item) out[key] = copy(item);
    }
    return out;
  }

  async subscribe(
    keys: readonly string[],
    _metadata: Metadata,
    handler: ConfigurationHandler,
  ): Promise<string> {
    this.checkOpen();
    const id = randomUUID();
    const queue = new UpdateQueue(id, handler, {
      onError: (message, fields) =>
        this.#logger.warn(message, { component: COMPONENT_TYPE, ...fields }),
    });
    this.#watches.set(id, { keys: new Set(keys), queue });
    return id;
  }

  async unsubscribe(id: string): Promise<void> {
    const watch = this.#watches.get(id);
    if (!watch) {
      throw this.errors.error("ERR_NOT_FOUND", `subscription ${id} does not exist`);
    }
    watch.queue.stop();
    this.#watches.delete(id);
  }

  /** Writes `key`; `version` defaults to the previous version plus one (from "1"). */
  async set(
    key: string,
    value: string,
    options: { version?: string; metadata?: Metadata } = {},
  ): Promise<void> {
    this.checkOpen();
    const previous = Number(this.#items.get(key)?.version);
    const item: ConfigurationItem = {
      value,
      version: options.version ?? String(Number.isSafeInteger(previous) ? previous + 1 : 1),
      metadata: { ...options.metadata },
    };
    this.#items.set(key, item);
    this.#notify(key, item);
  }

  /** Removes `key`; subscribers see it with an empty value and version. */
  async delete(key: string): Promise<void> {
    this.checkOpen();
    if (this.#items.delete(key)) this.#notify(key, { value: "", version: "", metadata: {} });
  }

  #notify(key: string, item: ConfigurationItem): void {
    for (const watch of this.#watches.values()) {
      if (watch.keys.size === 0 || watch.keys.has(key)) watch.queue.push({ [key]: copy(item) });
    }
  }

  protected override async onClose(): Promise<void> {
    for (const watch of this.#watches.values()) watch.queue.stop();
    this.#watches.clear();
  }
}

function copy(item: ConfigurationItem): ConfigurationItem {
  return { value: item.value, version: item.version, metadata: { ...item.metadata } };
}

/** Library mode: a store to write from the app or from tests. */
export async function createMemoryConfigurationStore(
  context?: ComponentContext,
): Promise<MemoryConfigurationStore> {
  return new MemoryConfigurationStore(context);
}

/** The sidecar's path: Dapr metadata (none is read; unknown keys are ignored). */
export async function openMemoryConfigurationStore(
  metadata: Metadata = {},
  context?: ComponentContext,
): Promise<MemoryConfigurationStore> {
  configurationOptions.parse(metadata);
  return new MemoryConfigurationStore(context);
}

export const configurationDefinition: ConfigurationStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "configuration",
  version: "v1",
  status: "alpha",
  description:
    "Keeps configuration items in the process's memory, written by the app or tests; the reference implementation of the contract.",
  capabilities: [],
  options: configurationOptions,
  create: openMemoryConfigurationStore,
};
