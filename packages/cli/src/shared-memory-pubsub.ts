import {
  type BulkMessageHandler,
  type BulkPublishRequest,
  type BulkSubscribeRequest,
  type ComponentContext,
  type ComponentDefinition,
  ComponentError,
  defineManifest,
  type MessageHandler,
  type Metadata,
  type PackageManifest,
  type PublishRequest,
  type PubSub,
  type PubSubDefinition,
  type SubscribeRequest,
} from "@outrig/core";
import { manifest as memoryManifest } from "@outrig/memory";

interface SharedBroker {
  pubsub: Promise<PubSub>;
  users: number;
}

const brokers = new Map<string, SharedBroker>();

function brokerKey(context: ComponentContext | undefined, metadata: Metadata): string {
  const sorted = Object.keys(metadata)
    .sort()
    .map((key) => [key, metadata[key]]);
  return `${context?.name ?? ""}\u0000${JSON.stringify(sorted)}`;
}

/**
 * One sidecar's view of a broker shared by every sidecar in this process. Closing it ends only
 * the subscriptions made through it; the broker closes with its last user.
 */
class SharedPubSubHandle implements PubSub {
  readonly capabilities: PubSub["capabilities"];
  readonly #inner: PubSub;
  readonly #release: () => Promise<void>;
  readonly #closed = new AbortController();

  constructor(inner: PubSub, release: () => Promise<void>) {
    this.#inner = inner;
    this.#release = release;
    this.capabilities = inner.capabilities;
  }

  /** This sidecar closed its handle: like any closed component, it refuses further calls. */
  #open(operation: string): void {
    if (this.#closed.signal.aborted) {
      throw new ComponentError("ERR_CLOSED", `${operation} after close`, {
        component: "pubsub.in-memory",
      });
    }
  }

  #signal(request: SubscribeRequest): AbortSignal {
    return request.signal
      ? AbortSignal.any([request.signal, this.#closed.signal])
      : this.#closed.signal;
  }

  async publish(request: PublishRequest): Promise<void> {
    this.#open("publish");
    return this.#inner.publish(request);
  }

  async bulkPublish(request: BulkPublishRequest) {
    this.#open("bulkPublish");
    return this.#inner.bulkPublish(request);
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    this.#open("subscribe");
    return this.#inner.subscribe({ ...request, signal: this.#signal(request) }, handler);
  }

  async bulkSubscribe(request: BulkSubscribeRequest, handler: BulkMessageHandler): Promise<void> {
    this.#open("bulkSubscribe");
    return this.#inner.bulkSubscribe({ ...request, signal: this.#signal(request) }, handler);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await this.#release();
  }
}

function shareAcrossSidecars(definition: PubSubDefinition): PubSubDefinition {
  return {
    ...definition,
    async create(metadata, context) {
      const key = brokerKey(context, metadata);
      let broker = brokers.get(key);
      if (!broker) {
        broker = { pubsub: definition.create(metadata, context), users: 0 };
        brokers.set(key, broker);
        broker.pubsub.catch(() => brokers.delete(key));
      }
      broker.users += 1;
      const shared = broker;
      const inner = await shared.pubsub;
      return new SharedPubSubHandle(inner, async () => {
        shared.users -= 1;
        if (shared.users === 0) {
          brokers.delete(key);
          await inner.close();
        }
      });
    },
  };
}

/**
 * `@outrig/memory` with `pubsub.in-memory` shared by all sidecars of one `outrig run` process
 * (same component name and metadata: same broker). Apps of a run file can then publish to each
 * other with no broker installed, as they would through the Redis that `dapr init` starts.
 */
export const sharedMemoryManifest: PackageManifest = defineManifest({
  ...memoryManifest,
  components: memoryManifest.components.map(
    (definition): ComponentDefinition =>
      definition.kind === "pubsub" && definition.type === "pubsub.in-memory"
        ? shareAcrossSidecars(definition)
        : definition,
  ),
});
