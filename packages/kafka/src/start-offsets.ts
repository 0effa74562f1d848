import { errorMessage, type Logger } from "@outrig/core";
import type { Admin, Consumer } from "kafkajs";

/** How long a join waits to see its start offsets committed before it goes on without them. */
const PIN_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface StartPinOptions {
  admin: () => Promise<Admin>;
  groupId: string;
  logger: Logger;
  /**
   * The log end first seen per `topic:partition`, kept by the caller across its consumers: a
   * partition whose pin did not land is pinned at that first end later, never at a newer one.
   */
  starts: Map<string, string>;
}

export interface StartPin {
  /** Resolves once the first assignment's start offsets are committed (or could not be). */
  readonly ready: Promise<void>;
  stop(): void;
}

type Assignment = { topic: string; partitions: number[] }[];

/**
 * Makes `initialOffset=newest` hold across rebalances. kafkajs, like Kafka's own clients, starts a
 * partition that its group never committed at the log end each time the partition is assigned,
 * and keeps that start in memory only; a rebalance before the first commit hands the partition to
 * a member that starts at a newer end, and whatever was published in between is skipped.
 *
 * So on every assignment the assigned partitions are paused (synchronously, inside kafkajs's
 * group-join event, before its next fetch), the group's committed offsets are read, and each
 * partition without one is sought to its log end (looked up once, see `starts`). With autoCommit,
 * kafkajs applies a seek inside its fetch loop as an offset commit under the group's generation
 * and re-reads the committed offset before it fetches that partition again, so the start is on the
 * broker before the first message is handled; then the partitions resume. Every later owner
 * finds that commit and starts there. Partitions with a committed offset are left alone.
 */
export function pinNewestStarts(consumer: Consumer, opts: StartPinOptions): StartPin {
  let cycle = 0;
  let stopped = false;
  let settle!: () => void;
  const ready = new Promise<void>((resolve) => {
    settle = resolve;
  });

  const pin = async (mine: number, assigned: Assignment): Promise<void> => {
    const live = () => !stopped && mine === cycle;
    let pinned: { topic: string; partition: number }[] = [];
    try {
      pinned = await seekUncommitted(consumer, opts, assigned, live);
    } catch (error) {
      opts.logger.warn(
        "kafka: could not commit the start offsets of newly assigned partitions; a rebalance before the first commit may skip messages",
        { groupId: opts.groupId, error: errorMessage(error) },
      );
    } finally {
      if (live()) consumer.resume(assigned);
    }
    if (pinned.length > 0) await waitCommitted(opts, pinned, live);
    // A superseded assignment leaves `ready` to the newer one.
    if (live()) settle();
  };

  const stopListening = consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const mine = ++cycle;
    const assigned: Assignment = Object.entries(event.payload.memberAssignment)
      .filter(([, partitions]) => partitions.length > 0)
      .map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
    if (assigned.length === 0) {
      settle();
      return;
    }
    consumer.pause(assigned);
    void pin(mine, assigned);
  });

  return {
    ready,
    stop() {
      stopped = true;
      stopListening();
      settle();
    },
  };
}

/** Seeks every assigned partition without a committed offset to its first-seen log end. */
async function seekUncommitted(
  consumer: Consumer,
  opts: StartPinOptions,
  assigned: Assignment,
  live: () => boolean,
): Promise<{ topic: string; partition: number }[]> {
  const admin = await opts.admin();
  const committed = await admin.fetchOffsets({
    groupId: opts.groupId,
    topics: assigned.map((a) => a.topic),
  });
  const uncommitted: { topic: string; partition: number }[] = [];
  for (const { topic, partitions } of committed) {
    const mine = new Set(assigned.find((a) => a.topic === topic)?.partitions ?? []);
    for (const p of partitions) {
      if (mine.has(p.partition) && Number(p.offset) < 0) {
        uncommitted.push({ topic, partition: p.partition });
      }
    }
  }
  const unknown = new Set(uncommitted.filter((u) => !opts.starts.has(key(u))).map((u) => u.topic));
  for (const topic of unknown) {
    for (const end of await admin.fetchTopicOffsets(topic)) {
      const k = key({ topic, partition: end.partition });
      if (!opts.starts.has(k)) opts.starts.set(k, end.high);
    }
  }
  if (!live()) return [];
  for (const u of uncommitted) {
    consumer.seek({ ...u, offset: opts.starts.get(key(u)) as string });
  }
  return uncommitted;
}

/** Polls the group's offsets until the pinned partitions show a commit (bounded). */
async function waitCommitted(
  opts: StartPinOptions,
  pinned: { topic: string; partition: number }[],
  live: () => boolean,
): Promise<void> {
  const deadline = Date.now() + PIN_TIMEOUT_MS;
  const topics = [...new Set(pinned.map((p) => p.topic))];
  while (live() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    try {
      const admin = await opts.admin();
      const offsets = await admin.fetchOffsets({ groupId: opts.groupId, topics });
      const done = new Set(
        offsets.flatMap((t) =>
          t.partitions
            .filter((p) => Number(p.offset) >= 0)
            .map((p) => key({ topic: t.topic, partition: p.partition })),
        ),
      );
      if (pinned.every((p) => done.has(key(p)))) return;
    } catch (error) {
      opts.logger.debug("kafka: reading committed offsets failed", { error: errorMessage(error) });
    }
  }
  if (live()) {
    opts.logger.warn(
      "kafka: the start offsets of newly assigned partitions were not committed in time; a rebalance before the first commit may skip messages",
      { groupId: opts.groupId, partitions: pinned.map(key) },
    );
  }
}

const key = (p: { topic: string; partition: number }): string => `${p.topic}:${p.partition}`;
