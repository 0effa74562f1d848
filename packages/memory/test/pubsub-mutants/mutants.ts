import type { Metadata, PubSub, PubSubCapability } from "@outrig/core";
import { createMemoryPubSub } from "../../src/pubsub.ts";

/**
 * Deliberately broken variants of the in-memory pub/sub, each the kind of bug a real broker
 * component tends to have. They wrap the real component so the reference code carries no test
 * hooks; the mutant check runs the conformance suite on each and expects specific cases to fail.
 */
type Patch = (inner: PubSub) => Partial<PubSub>;

function mutant(patch: Patch): () => Promise<PubSub> {
  return async () => {
    const inner = await createMemoryPubSub({ redeliverInterval: "50ms" });
    const base: PubSub = {
      capabilities: inner.capabilities,
      publish: (r) => inner.publish(r),
      bulkPublish: (r) => inner.bulkPublish(r),
      subscribe: (r, h) => inner.subscribe(r, h),
      bulkSubscribe: (r, h) => inner.bulkSubscribe(r, h),
      ping: () => inner.ping(),
      close: () => inner.close(),
    };
    return { ...base, ...patch(inner) };
  };
}

function without(metadata: Metadata | undefined, ...keys: string[]): Metadata {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return Object.fromEntries(
    Object.entries(metadata ?? {}).filter(([k]) => !drop.has(k.toLowerCase())),
  );
}

export const mutants = {
  /** Treats a thrown handler as done: failed messages are never redelivered. */
  "acks-failed-handler": mutant((inner) => ({
    subscribe: (request, handler) =>
      inner.subscribe(request, (m) => handler(m).catch(() => undefined)),
    bulkSubscribe: (request, handler) =>
      inner.bulkSubscribe(request, async (message) => {
        await handler(message).catch(() => undefined);
        return message.entries.map((e) => ({ entryId: e.entryId }));
      }),
  })),

  /** Still declares ORDERING but loses the partition key, so one key's messages run concurrently. */
  "ignores-partition-key": mutant((inner) => ({
    publish: (request) =>
      inner.publish({ ...request, metadata: without(request.metadata, "partitionKey") }),
  })),

  /** Never hands the abort signal to the broker: an unsubscribed handler keeps getting messages. */
  "delivers-after-abort": mutant((inner) => ({
    subscribe: ({ signal: _ignored, ...request }, handler) => inner.subscribe(request, handler),
  })),

  /** The same for bulk subscriptions. */
  "bulk-delivers-after-abort": mutant((inner) => ({
    bulkSubscribe: ({ signal: _ignored, ...request }, handler) =>
      inner.bulkSubscribe(request, handler),
  })),

  /** Bulk publish loses the last entry yet reports no failed entries. */
  "drops-bulk-publish-entry": mutant((inner) => ({
    bulkPublish: (request) =>
      inner.bulkPublish({ ...request, entries: request.entries.slice(0, -1) }),
  })),

  /** Bulk subscribe leaves the last entry of a batch out of the handler's view but acks it. */
  "drops-bulk-subscribe-entry": mutant((inner) => ({
    bulkSubscribe: (request, handler) =>
      inner.bulkSubscribe(request, async (message) => {
        if (message.entries.length < 2) return handler(message);
        const dropped = message.entries.at(-1)!;
        const statuses = await handler({ ...message, entries: message.entries.slice(0, -1) });
        return [...statuses, { entryId: dropped.entryId }];
      }),
  })),

  /** Declares MESSAGE_TTL but never passes the TTL on. */
  "ignores-ttl": mutant((inner) => ({
    publish: (request) =>
      inner.publish({ ...request, metadata: without(request.metadata, "ttlInSeconds", "ttl") }),
  })),

  /** Leaves the bulk capabilities undeclared while the bulk methods still work. */
  "undeclared-bulk-works": mutant((inner) => ({
    capabilities: new Set(
      [...inner.capabilities].filter((c) => c !== "BULK_PUBSUB" && c !== "BULK_SUBSCRIBE"),
    ) as ReadonlySet<PubSubCapability>,
  })),

  /** Drops message metadata on the way through. */
  "drops-metadata": mutant((inner) => ({
    subscribe: (request, handler) =>
      inner.subscribe(request, (m) => handler({ ...m, metadata: {} })),
  })),

  /** close() does nothing: publishes keep succeeding and subscriptions keep running. */
  "close-is-a-no-op": mutant(() => ({
    close: async () => undefined,
  })),
} as const;

export type MutantName = keyof typeof mutants;
