import type { Component } from "./component.ts";
import { errorMessage, notSupported } from "./errors.ts";
import type { Metadata } from "./metadata.ts";

/**
 * Pub/sub capabilities. `BULK_PUBSUB`, `MESSAGE_TTL` and `SUBSCRIBE_WILDCARDS` are Dapr's
 * spellings; `BULK_SUBSCRIBE` (Dapr detects it from the interface) and `ORDERING` (messages
 * published in sequence with the same `partitionKey` reach the handler in that order, one at a
 * time: the next is handed over only after the previous handler settled) are ours.
 */
export const PUBSUB_CAPABILITIES = [
  "BULK_PUBSUB",
  "BULK_SUBSCRIBE",
  "MESSAGE_TTL",
  "SUBSCRIBE_WILDCARDS",
  "ORDERING",
] as const;
export type PubSubCapability = (typeof PUBSUB_CAPABILITIES)[number];

export interface PublishRequest {
  topic: string;
  data: Uint8Array;
  /** `ttlInSeconds`, `partitionKey`, broker-specific keys; others travel as message metadata. */
  metadata?: Metadata;
  contentType?: string;
}

export interface PubSubMessage {
  topic: string;
  data: Uint8Array;
  metadata: Metadata;
  contentType?: string;
}

/** Resolving acknowledges the message; throwing asks for redelivery. */
export type MessageHandler = (message: PubSubMessage) => Promise<void>;

export interface SubscribeRequest {
  topic: string;
  metadata?: Metadata;
  /** Ends the subscription; so does closing the component. */
  signal?: AbortSignal;
}

export interface BulkPublishEntry {
  entryId: string;
  event: Uint8Array;
  contentType?: string;
  metadata?: Metadata;
}

export interface BulkPublishRequest {
  topic: string;
  entries: BulkPublishEntry[];
  metadata?: Metadata;
}

export interface BulkPublishResponse {
  /** Empty when every entry was published. */
  failedEntries: { entryId: string; error: string }[];
}

export interface BulkSubscribeRequest extends SubscribeRequest {
  /** Default 100. */
  maxMessagesCount?: number;
  /** Default 1000. */
  maxAwaitDurationMs?: number;
}

export interface BulkMessage {
  topic: string;
  metadata: Metadata;
  entries: { entryId: string; event: Uint8Array; contentType?: string; metadata: Metadata }[];
}

/**
 * Per-entry outcome: an entry without `error` is acknowledged; an entry with one, a missing entry,
 * or a thrown handler is redelivered.
 */
export type BulkMessageHandler = (
  message: BulkMessage,
) => Promise<{ entryId: string; error?: string }[]>;

/**
 * A pub/sub component. `subscribe` resolves once the subscription is established and delivers in
 * the background until its signal aborts or the component closes; once either happens the handler
 * is not called again. Delivery is at least once: a handler that throws gets the message again.
 * After `close`, `publish` rejects with a ComponentError (ERR_CLOSED).
 */
export interface PubSub extends Component {
  readonly capabilities: ReadonlySet<PubSubCapability>;
  publish(request: PublishRequest): Promise<void>;
  /** BULK_PUBSUB; otherwise rejects with ERR_NOT_SUPPORTED (the sidecar then publishes one by one). */
  bulkPublish(request: BulkPublishRequest): Promise<BulkPublishResponse>;
  subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void>;
  /** BULK_SUBSCRIBE; otherwise rejects with ERR_NOT_SUPPORTED. */
  bulkSubscribe(request: BulkSubscribeRequest, handler: BulkMessageHandler): Promise<void>;
}

/** @deprecated Extend `BasePubSub` from `@outrig/core/kit`: it owns the lifecycle and validates requests. */
export abstract class BasePubSub implements PubSub {
  abstract readonly capabilities: ReadonlySet<PubSubCapability>;
  abstract readonly componentType: string;
  abstract publish(request: PublishRequest): Promise<void>;
  abstract subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  async bulkPublish(_request: BulkPublishRequest): Promise<BulkPublishResponse> {
    throw notSupported("bulkPublish", this.componentType);
  }

  async bulkSubscribe(_request: BulkSubscribeRequest, _handler: BulkMessageHandler): Promise<void> {
    throw notSupported("bulkSubscribe", this.componentType);
  }
}

/** Bulk publish as concurrent single publishes, for components without a native batch. */
export async function bulkPublishOneByOne(
  pubsub: Pick<PubSub, "publish">,
  request: BulkPublishRequest,
): Promise<BulkPublishResponse> {
  const results = await Promise.allSettled(
    request.entries.map((e) =>
      pubsub.publish({
        topic: request.topic,
        data: e.event,
        metadata: { ...request.metadata, ...e.metadata },
        ...(e.contentType ? { contentType: e.contentType } : {}),
      }),
    ),
  );
  const failedEntries: BulkPublishResponse["failedEntries"] = [];
  results.forEach((r, i) => {
    if (r.status === "rejected") {
      failedEntries.push({
        entryId: (request.entries[i] as BulkPublishEntry).entryId,
        error: errorMessage(r.reason),
      });
    }
  });
  return { failedEntries };
}

/**
 * Bulk subscribe on top of `subscribe`: messages are gathered until `maxMessagesCount` arrive or
 * `maxAwaitDurationMs` passes, handed over as one batch, and each is acked or redelivered by its
 * own entry's outcome. Needs a subscription that delivers several messages concurrently.
 */
export async function bulkSubscribeByBatching(
  subscribe: PubSub["subscribe"],
  request: BulkSubscribeRequest,
  handler: BulkMessageHandler,
): Promise<void> {
  const maxCount =
    request.maxMessagesCount && request.maxMessagesCount > 0 ? request.maxMessagesCount : 100;
  const maxWait =
    request.maxAwaitDurationMs && request.maxAwaitDurationMs > 0
      ? request.maxAwaitDurationMs
      : 1000;
  type Pending = {
    message: PubSubMessage;
    entryId: string;
    resolve: () => void;
    reject: (e: Error) => void;
  };
  let batch: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let seq = 0;

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const current = batch;
    batch = [];
    if (current.length === 0) return;
    const message: BulkMessage = {
      topic: request.topic,
      metadata: { ...request.metadata },
      entries: current.map((p) => ({
        entryId: p.entryId,
        event: p.message.data,
        metadata: p.message.metadata,
        ...(p.message.contentType ? { contentType: p.message.contentType } : {}),
      })),
    };
    handler(message).then(
      (statuses) => {
        const byId = new Map(statuses.map((s) => [s.entryId, s]));
        for (const p of current) {
          const status = byId.get(p.entryId);
          if (status && !status.error) p.resolve();
          else p.reject(new Error(status?.error ?? `no status returned for entry ${p.entryId}`));
        }
      },
      (error: unknown) => {
        for (const p of current)
          p.reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };

  // An aborted subscription must not reach the handler again: a half-gathered batch is handed
  // back to the broker (rejected, so redelivered elsewhere) instead of flushed.
  const aborted = (): Error => new Error("bulk subscription aborted");
  request.signal?.addEventListener(
    "abort",
    () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const pending = batch;
      batch = [];
      for (const p of pending) p.reject(aborted());
    },
    { once: true },
  );
  await subscribe(
    {
      topic: request.topic,
      ...(request.metadata ? { metadata: request.metadata } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    },
    (message) =>
      new Promise<void>((resolve, reject) => {
        if (request.signal?.aborted) {
          reject(aborted());
          return;
        }
        // Generated, never taken from message metadata: two messages carrying the same
        // `entryId` header would otherwise share one status in the batch.
        batch.push({ message, entryId: `${Date.now()}-${seq++}`, resolve, reject });
        if (batch.length >= maxCount) flush();
        else if (!timer) timer = setTimeout(flush, maxWait);
      }),
  );
}
