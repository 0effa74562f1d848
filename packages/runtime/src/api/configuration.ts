import type {
  ConfigurationItem,
  ConfigurationStore,
  ConfigurationUpdate,
  Metadata,
} from "@outrig/core";
import type { ApiContext } from "./context.ts";
import { apiError, fromComponentError } from "./errors.ts";

/** How long the app may take to answer one configuration delivery (`POST /configuration/...`). */
export const CONFIGURATION_DELIVERY_TIMEOUT_MS = 10_000;

export interface GetConfigurationRequest {
  store: string | undefined;
  /** Empty: every item of the store. */
  keys: readonly string[];
  metadata?: Metadata;
}

export interface SubscribeConfigurationRequest extends GetConfigurationRequest {
  /**
   * Where updates go: a gRPC stream's writer. Without it they are POSTed to the app
   * (`/configuration/{store}/{key}`), as daprd's HTTP API does.
   */
  deliver?: (update: ConfigurationUpdate) => Promise<void>;
  /** The stream or caller the subscription lives with: aborting it ends the subscription. */
  signal?: AbortSignal;
  /** Called once when the subscription ends for another reason (unsubscribe, app gone, drain). */
  onEnd?: () => void;
}

export interface UnsubscribeConfigurationRequest {
  store: string | undefined;
  id: string;
}

interface Live {
  store: string;
  instance: ConfigurationStore;
  end: () => void;
}

/**
 * The subscriptions this sidecar's API started, by id. Each ends on unsubscribe, when the stream
 * or app it delivers to goes away, and when the sidecar drains (`closeAll`).
 */
export class ConfigurationSubscriptions {
  readonly #live = new Map<string, Live>();
  readonly #track: <T>(fn: () => Promise<T>) => Promise<T>;
  #closed = false;

  /** `track` counts each delivery in flight, so a graceful stop waits for it. */
  constructor(track: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn()) {
    this.#track = track;
  }

  get size(): number {
    return this.#live.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  track<T>(fn: () => Promise<T>): Promise<T> {
    return this.#track(fn);
  }

  add(id: string, live: Live): void {
    this.#live.set(id, live);
  }

  get(id: string): Live | undefined {
    return this.#live.get(id);
  }

  /** Forgets `id` and ends it at the store; false when it was not live. */
  async remove(id: string): Promise<boolean> {
    const live = this.#live.get(id);
    if (!live) return false;
    this.#live.delete(id);
    live.end();
    await live.instance.unsubscribe(id);
    return true;
  }

  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#live.keys()].map((id) => this.remove(id)));
  }
}

function requireStore(ctx: ApiContext, name: string | undefined): string {
  if (ctx.runtime.names("configuration").length === 0) {
    throw apiError("CONFIGURATION_STORE_NOT_CONFIGURED");
  }
  if (!name || !ctx.runtime.has("configuration", name)) {
    throw apiError("CONFIGURATION_STORE_NOT_FOUND", { store: name ?? "" });
  }
  return name;
}

function checkKeys(keys: readonly unknown[]): string[] {
  for (const key of keys) {
    if (typeof key !== "string" || key === "") {
      throw apiError("MALFORMED_REQUEST", {
        detail: `configuration keys must be non-empty strings; got ${JSON.stringify(key)}`,
      });
    }
  }
  return keys as string[];
}

const keyList = (keys: readonly string[]): string =>
  keys.length > 0 ? keys.join(",") : "all keys";

/** The store's items of `keys` (every item when empty); keys it does not hold are absent. */
export async function getConfiguration(
  ctx: ApiContext,
  request: GetConfigurationRequest,
): Promise<Record<string, ConfigurationItem>> {
  const store = requireStore(ctx, request.store);
  const keys = checkKeys(request.keys);
  try {
    return await ctx.runtime.configurationStore(store).get(keys, request.metadata ?? {});
  } catch (error) {
    throw fromComponentError("configurationGet", error, { keys: keyList(keys), store });
  }
}

/**
 * Daprd's HTTP delivery: the whole update, once per changed key, to `/configuration/{store}/{key}`.
 * A refused connection means the app is gone, which ends the subscription.
 */
async function postToApp(
  ctx: ApiContext,
  store: string,
  update: ConfigurationUpdate,
  end: () => void,
): Promise<void> {
  const app = ctx.app;
  if (!app) return;
  const body = JSON.stringify({ id: update.id, items: update.items });
  for (const key of Object.keys(update.items)) {
    const path = `/configuration/${encodeURIComponent(store)}/${encodeURIComponent(key)}`;
    try {
      const res = await app.request({
        method: "POST",
        path,
        headers: { "content-type": "application/json" },
        body,
        timeoutMs: CONFIGURATION_DELIVERY_TIMEOUT_MS,
      });
      if (res.status < 200 || res.status > 299) {
        ctx.logger.warn("the app refused a configuration update", { path, status: res.status });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") {
        ctx.logger.warn("the app is gone: configuration subscription ended", {
          store,
          subscription: update.id,
        });
        end();
        return;
      }
      ctx.logger.warn("configuration update not delivered to the app", {
        path,
        error: (error as Error).message,
      });
    }
  }
}

/** Starts a subscription; resolves with its id once the store watches the keys. */
export async function subscribeConfiguration(
  ctx: ApiContext,
  request: SubscribeConfigurationRequest,
): Promise<string> {
  const store = requireStore(ctx, request.store);
  const keys = checkKeys(request.keys);
  const registry = ctx.configurationSubscriptions;
  const failed = (detail: string) =>
    apiError("CONFIGURATION_SUBSCRIBE", { keys: keyList(keys), store, error: detail });
  if (!registry || registry.closed) throw failed("the sidecar is shutting down");
  if (!request.deliver && !ctx.app) {
    throw failed("the sidecar has no app channel to deliver updates to (no app port)");
  }
  if (request.signal?.aborted) throw failed("the caller went away");
  const instance = ctx.runtime.configurationStore(store);
  let id: string | undefined;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    if (id) void registry.remove(id).catch(() => undefined);
  };
  const deliver =
    request.deliver ?? ((update: ConfigurationUpdate) => postToApp(ctx, store, update, end));
  try {
    id = await instance.subscribe(keys, request.metadata ?? {}, (update) =>
      ended ? Promise.resolve() : registry.track(() => deliver(update)),
    );
  } catch (error) {
    throw fromComponentError("configurationSubscribe", error, { keys: keyList(keys), store });
  }
  const own = id;
  const onAbort = (): void => end();
  registry.add(own, {
    store,
    instance,
    end: () => {
      ended = true;
      request.signal?.removeEventListener("abort", onAbort);
      if (!request.signal?.aborted) request.onEnd?.();
    },
  });
  request.signal?.addEventListener("abort", onAbort, { once: true });
  // The caller may have gone while the store was subscribing.
  if (request.signal?.aborted || registry.closed) end();
  return own;
}

/** Ends subscription `id` of `store`; ERR_CONFIGURATION_UNSUBSCRIBE when there is none. */
export async function unsubscribeConfiguration(
  ctx: ApiContext,
  request: UnsubscribeConfigurationRequest,
): Promise<void> {
  const store = requireStore(ctx, request.store);
  const { id } = request;
  const live = ctx.configurationSubscriptions?.get(id);
  if (!live || live.store !== store) {
    throw apiError("CONFIGURATION_UNSUBSCRIBE", {
      id,
      error: `subscription does not exist in configuration store ${store}`,
    });
  }
  try {
    await ctx.configurationSubscriptions?.remove(id);
  } catch (error) {
    throw fromComponentError("configurationUnsubscribe", error, { id });
  }
}
