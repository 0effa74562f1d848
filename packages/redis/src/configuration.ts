import { randomUUID } from "node:crypto";
import {
  type ComponentContext,
  type ConfigurationHandler,
  type ConfigurationItem,
  type ConfigurationStore,
  type ConfigurationStoreDefinition,
  type Logger,
  type Metadata,
  type OptionsInput,
  silentLogger,
  UpdateQueue,
} from "@outrig/core";
import { BaseComponent, componentErrors } from "@outrig/core/kit";
import type { Redis } from "ioredis";
import {
  checkConnectionOptions,
  clientOptions,
  connect,
  disconnect,
  pingClient,
  toComponentError,
} from "./connection.ts";
import { configurationOptions } from "./options.ts";

const COMPONENT = "configuration.redis";
const errors = componentErrors(COMPONENT);
/** Dapr's layout: a plain string key holding `value||version`. */
const SEPARATOR = "||";
/** Keyspace events this store needs: K (keyspace channel) and A (every command class). */
const NEEDED_EVENTS = "KA";
/** Keys read per MGET when every item is asked for. */
const MGET_BATCH = 500;
/** A get of every key stops past this many keys instead of growing without bound. */
export const MAX_CONFIGURATION_KEYS = 100_000;

/** Splits Dapr's `value||version` (no separator: the whole text is the value, no version). */
export function parseConfigurationValue(raw: string): { value: string; version: string } {
  const at = raw.indexOf(SEPARATOR);
  if (at < 0) return { value: raw, version: "" };
  const rest = raw.slice(at + SEPARATOR.length);
  const next = rest.indexOf(SEPARATOR);
  return { value: raw.slice(0, at), version: next < 0 ? rest : rest.slice(0, next) };
}

/** Adds the flags this store needs to a `notify-keyspace-events` value, keeping the others. */
export function withKeyspaceEvents(current: string): string {
  const flags = new Set(current);
  for (const f of NEEDED_EVENTS) flags.add(f);
  return [...flags].join("");
}

interface Watch {
  keys: ReadonlySet<string>;
  queue: UpdateQueue;
}

/**
 * Dapr's `configuration.redis`: items are string keys holding `value||version`; changes are seen
 * through keyspace notifications (`__keyspace@<db>__:<key>`), which the store switches on when a
 * subscription starts and again after every reconnect (a restarted server forgets them). A
 * notification names only the key, so the value is read when it is handled: changes written
 * faster than that are seen as their latest value.
 */
export class RedisConfigurationStore extends BaseComponent implements ConfigurationStore {
  readonly componentType = COMPONENT;
  protected override readonly closedMessage = "the store is closed";
  readonly #client: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #watches = new Map<string, Watch>();
  /** Channel → how many subscriptions need it (`*` pattern for every key). */
  readonly #channels = new Map<string, number>();
  #chain: Promise<void> = Promise.resolve();

  constructor(client: Redis, subscriber: Redis, db: number, logger: Logger) {
    super();
    this.#client = client;
    this.#subscriber = subscriber;
    this.#prefix = `__keyspace@${db}__:`;
    this.#logger = logger;
    subscriber.on("message", (channel: string) => this.#changed(channel));
    subscriber.on("pmessage", (_pattern: string, channel: string) => this.#changed(channel));
    // A restarted server has lost notify-keyspace-events; ioredis subscribes again on its own.
    // The setting goes through the command connection, which may be back before or after the
    // subscriber: whichever is ready last finds the other one ready.
    const reenable = (): void => {
      if (this.#watches.size > 0 && !this.closed) void this.#enableNotifications();
    };
    client.on("ready", reenable);
    subscriber.on("ready", reenable);
  }

  async get(
    keys: readonly string[],
    _metadata?: Metadata,
  ): Promise<Record<string, ConfigurationItem>> {
    this.checkOpen();
    try {
      const wanted = keys.length > 0 ? [...keys] : await this.#allKeys();
      const out: Record<string, ConfigurationItem> = {};
      for (let i = 0; i < wanted.length; i += MGET_BATCH) {
        const batch = wanted.slice(i, i + MGET_BATCH);
        // MGET answers nil for keys of other types (a state hash in the same database).
        const values = await this.#client.mget(...batch);
        batch.forEach((key, j) => {
          const raw = values[j];
          if (typeof raw === "string") out[key] = { ...parseConfigurationValue(raw), metadata: {} };
        });
      }
      return out;
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
  }

  async #allKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await this.#client.scan(cursor, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
      if (keys.length > MAX_CONFIGURATION_KEYS) {
        throw errors.error(
          "ERR_INVALID_REQUEST",
          `the database holds more than ${MAX_CONFIGURATION_KEYS} keys; ask for the keys you need`,
        );
      }
    } while (cursor !== "0");
    return keys;
  }

  async #enableNotifications(): Promise<void> {
    try {
      const reply = (await this.#client.config("GET", "notify-keyspace-events")) as string[];
      const current = reply[1] ?? "";
      const wanted = withKeyspaceEvents(current);
      if (wanted !== current) await this.#client.config("SET", "notify-keyspace-events", wanted);
    } catch (error) {
      // Not connected (yet): the connection's next "ready" tries again.
      if (this.#client.status !== "ready") return;
      // Managed servers may refuse CONFIG; notifications may still be on in their settings.
      this.#logger.warn(
        "configuration.redis could not switch on keyspace notifications (CONFIG SET notify-keyspace-events KA); subscriptions see changes only if the server has them on",
        { component: COMPONENT, error: (error as Error).message },
      );
    }
  }

  async subscribe(
    keys: readonly string[],
    _metadata: Metadata,
    handler: ConfigurationHandler,
  ): Promise<string> {
    this.checkOpen();
    await this.#enableNotifications();
    const id = randomUUID();
    const channels = keys.length > 0 ? keys.map((k) => this.#prefix + k) : ["*"];
    try {
      const fresh = channels.filter((c) => !this.#channels.has(c));
      const exact = fresh.filter((c) => c !== "*");
      if (exact.length > 0) await this.#subscriber.subscribe(...exact);
      if (fresh.includes("*")) await this.#subscriber.psubscribe(`${this.#prefix}*`);
    } catch (error) {
      throw toComponentError(error, COMPONENT);
    }
    for (const c of channels) this.#channels.set(c, (this.#channels.get(c) ?? 0) + 1);
    const queue = new UpdateQueue(id, handler, {
      onError: (message, fields) => this.#logger.warn(message, { component: COMPONENT, ...fields }),
    });
    this.#watches.set(id, { keys: new Set(keys), queue });
    return id;
  }

  async unsubscribe(id: string): Promise<void> {
    const watch = this.#watches.get(id);
    if (!watch) {
      throw errors.error("ERR_NOT_FOUND", `subscription ${id} does not exist`);
    }
    watch.queue.stop();
    this.#watches.delete(id);
    const channels = watch.keys.size > 0 ? [...watch.keys].map((k) => this.#prefix + k) : ["*"];
    const unused: string[] = [];
    for (const c of channels) {
      const left = (this.#channels.get(c) ?? 1) - 1;
      if (left > 0) this.#channels.set(c, left);
      else {
        this.#channels.delete(c);
        unused.push(c);
      }
    }
    // Best effort: a channel left subscribed only costs messages nobody is handed.
    const exact = unused.filter((c) => c !== "*");
    if (exact.length > 0) await this.#subscriber.unsubscribe(...exact).catch(() => undefined);
    if (unused.includes("*"))
      await this.#subscriber.punsubscribe(`${this.#prefix}*`).catch(() => undefined);
  }

  /** One notification: read the key's value now, in notification order, and hand it on. */
  #changed(channel: string): void {
    if (!channel.startsWith(this.#prefix)) return;
    const key = channel.slice(this.#prefix.length);
    this.#chain = this.#chain.then(async () => {
      if (this.closed) return;
      let item: ConfigurationItem;
      try {
        const raw = await this.#client.get(key);
        item =
          raw === null
            ? { value: "", version: "", metadata: {} }
            : { ...parseConfigurationValue(raw), metadata: {} };
      } catch (error) {
        // WRONGTYPE (not a configuration key) or a lost connection: nothing to deliver.
        this.#logger.debug("configuration.redis could not read a changed key", {
          key,
          error: (error as Error).message,
        });
        return;
      }
      for (const watch of this.#watches.values()) {
        if (watch.keys.size === 0 || watch.keys.has(key))
          watch.queue.push({ [key]: { ...item, metadata: {} } });
      }
    });
  }

  protected override async onPing(): Promise<void> {
    await pingClient(this.#client, COMPONENT);
  }

  protected override async onClose(): Promise<void> {
    for (const watch of this.#watches.values()) watch.queue.stop();
    this.#watches.clear();
    await Promise.all([disconnect(this.#subscriber), disconnect(this.#client)]);
  }
}

/** `createRedisConfigurationStore`'s options: the YAML metadata fields, typed. */
export type RedisConfigurationMetadata = OptionsInput<typeof configurationOptions.fields>;

/** Library mode: the store from typed options named as in the YAML; an unknown one is a ConfigError. */
export async function createRedisConfigurationStore(
  options: RedisConfigurationMetadata,
  context: ComponentContext = {},
): Promise<RedisConfigurationStore> {
  return openRedisConfigurationStore(configurationOptions.fromOptions(options), context);
}

/** Creates a `configuration.redis` store from Dapr metadata (`redisHost`, ...). */
export async function openRedisConfigurationStore(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RedisConfigurationStore> {
  const options = configurationOptions.parse(metadata);
  const address = checkConnectionOptions(options, COMPONENT);
  const name = `outrig:${COMPONENT}:${context.name ?? "configuration"}`;
  const redisOptions = clientOptions(options, address, name);
  const client = await connect(redisOptions, COMPONENT);
  let subscriber: Redis;
  try {
    // Subscribing takes a connection of its own; while the server is away the client keeps
    // reconnecting and subscribes again (ioredis autoResubscribe).
    subscriber = await connect(
      { ...redisOptions, connectionName: `${name}:subscriber` },
      COMPONENT,
    );
  } catch (error) {
    await disconnect(client);
    throw error;
  }
  return new RedisConfigurationStore(
    client,
    subscriber,
    redisOptions.db ?? 0,
    context.logger ?? silentLogger,
  );
}

export const configurationDefinition: ConfigurationStoreDefinition = {
  type: COMPONENT,
  kind: "configuration",
  version: "v1",
  status: "beta",
  description:
    "Configuration items as Redis strings `value||version`, watched through keyspace notifications",
  capabilities: [],
  options: configurationOptions,
  create: openRedisConfigurationStore,
};
