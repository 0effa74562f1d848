import type {
  ConfigurationHandler,
  ConfigurationItem,
  ConfigurationStore,
  Metadata,
} from "@outrig/core";
import { MemoryConfigurationStore } from "../../src/configuration.ts";

/**
 * The in-memory store behind a "server" that can restart: a restart drops every subscription the
 * server held, and a correct client subscribes again (as the Redis and PostgreSQL stores do).
 */
export class Restartable implements ConfigurationStore {
  readonly componentType = "configuration.in-memory";
  server = new MemoryConfigurationStore();
  /** Our id → what to subscribe again with, and the server's current id. */
  protected readonly subs = new Map<
    string,
    { keys: readonly string[]; handler: ConfigurationHandler; serverId: string }
  >();
  protected resubscribes = true;

  get(keys: readonly string[], metadata?: Metadata): Promise<Record<string, ConfigurationItem>> {
    return this.server.get(keys, metadata);
  }
  async subscribe(keys: readonly string[], metadata: Metadata, handler: ConfigurationHandler) {
    const ref = { id: "" };
    const serverId = await this.server.subscribe(keys, metadata, (u) =>
      handler({ ...u, id: ref.id }),
    );
    ref.id = serverId;
    this.subs.set(serverId, { keys, handler, serverId });
    return serverId;
  }
  async unsubscribe(id: string): Promise<void> {
    const sub = this.subs.get(id);
    if (!sub) return this.server.unsubscribe(id);
    this.subs.delete(id);
    await this.server.unsubscribe(sub.serverId).catch(() => undefined);
  }
  async restart(): Promise<void> {
    const items = await this.server.get([]);
    await this.server.close();
    this.server = new MemoryConfigurationStore();
    for (const [key, item] of Object.entries(items)) await this.server.set(key, item.value, item);
    if (!this.resubscribes) return;
    for (const [ours, sub] of this.subs) {
      sub.serverId = await this.server.subscribe(sub.keys, {}, (u) =>
        sub.handler({ ...u, id: ours }),
      );
    }
  }
  write(key: string, value: string, version: string): Promise<void> {
    return this.server.set(key, value, { version });
  }
  remove(key: string): Promise<void> {
    return this.server.delete(key);
  }
  ping(): Promise<void> {
    return this.server.ping();
  }
  close(): Promise<void> {
    this.subs.clear();
    return this.server.close();
  }
}

/** Every other change of a key is lost. */
class DropsChanges extends Restartable {
  #n = 0;
  override write(key: string, value: string, version: string) {
    return this.#n++ % 2 === 1 ? Promise.resolve() : super.write(key, value, version);
  }
  override async get(keys: readonly string[], metadata?: Metadata) {
    return super.get(keys, metadata);
  }
}

/** Updates reach the handler in reverse pairs. */
class Reorders extends Restartable {
  override async subscribe(
    keys: readonly string[],
    metadata: Metadata,
    handler: ConfigurationHandler,
  ) {
    let held: Parameters<ConfigurationHandler>[0] | undefined;
    return super.subscribe(keys, metadata, async (u) => {
      if (!held) {
        held = u;
        return;
      }
      const first = held;
      held = undefined;
      await handler(u);
      await handler(first);
    });
  }
}

/** Unsubscribe resolves but the subscription keeps running. */
class KeepsDelivering extends Restartable {
  override async unsubscribe(id: string) {
    if (!this.subs.has(id)) return this.server.unsubscribe(id);
  }
  override async close() {
    // Closing forgets the bookkeeping but leaves the server's subscriptions running.
    this.subs.clear();
  }
}

/** Missing keys come back as empty items. */
class InventsMissing extends Restartable {
  override async get(keys: readonly string[], metadata?: Metadata) {
    const items = await super.get(keys, metadata);
    for (const key of keys) items[key] ??= { value: "", version: "", metadata: {} };
    return items;
  }
}

/** An empty key list returns nothing instead of everything. */
class EmptyMeansNone extends Restartable {
  override async get(keys: readonly string[], metadata?: Metadata) {
    return keys.length === 0 ? {} : super.get(keys, metadata);
  }
}

/** Every subscription sees every key. */
class IgnoresKeys extends Restartable {
  override subscribe(_keys: readonly string[], metadata: Metadata, handler: ConfigurationHandler) {
    return super.subscribe([], metadata, handler);
  }
}

/** After a server restart the subscriptions are gone. */
class LosesSubscriptionsOnRestart extends Restartable {
  protected override resubscribes = false;
}

/** Unknown ids are accepted silently. */
class AcceptsUnknownIds extends Restartable {
  override async unsubscribe(id: string) {
    if (this.subs.has(id)) await super.unsubscribe(id);
  }
}

export const configurationMutants: Record<
  string,
  { create: () => Restartable; mustFail: string[] }
> = {
  "drops-changes": {
    create: () => new DropsChanges(),
    mustFail: ["subscribe sees every change in order"],
  },
  reorders: {
    create: () => new Reorders(),
    mustFail: ["subscribe sees every change in order", "subscribe during a burst"],
  },
  "keeps-delivering": {
    create: () => new KeepsDelivering(),
    mustFail: ["unsubscribe stops deliveries", "close"],
  },
  "invents-missing": { create: () => new InventsMissing(), mustFail: ["get missing keys"] },
  "empty-means-none": { create: () => new EmptyMeansNone(), mustFail: ["get all keys"] },
  "ignores-keys": {
    create: () => new IgnoresKeys(),
    mustFail: ["subscribe watches only its keys"],
  },
  "loses-subscriptions-on-restart": {
    create: () => new LosesSubscriptionsOnRestart(),
    mustFail: ["reconnect after a server restart"],
  },
  "accepts-unknown-ids": {
    create: () => new AcceptsUnknownIds(),
    mustFail: ["unsubscribe an unknown id"],
  },
};
