/**
 * Throughput of pubsub.kafka against the raw kafkajs producer doing the same work, in one process
 * against one broker: bulk publish of BENCH_MESSAGES (default 10,000) messages in one call, then
 * single publishes with many in flight. Both sides use acks=-1, the same key and headers. Prints
 * messages/s for both and their ratio (the target for bulk publish is >= 0.80); it asserts nothing.
 *
 *   pnpm --filter @outrig/kafka bench                    (starts a Kafka container)
 *   OUTRIG_TEST_KAFKA_BROKERS=127.0.0.1:9092 pnpm --filter @outrig/kafka bench
 */
import { randomUUID } from "node:crypto";
import { startKafka } from "@outrig/conformance/services";
import {
  comparePair,
  inFlight,
  opsPerSecond,
  printRatios,
  type RatioRow,
} from "@outrig/tools/bench";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { createKafkaPubSub } from "../src/index.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const SINGLES = Math.min(MESSAGES, 5_000);
const IN_FLIGHT = 64;
const ROUNDS = 3;
const body = Buffer.from(JSON.stringify({ name: "bench", tags: ["a", "b"], n: 42 }));

const compare = (component: () => Promise<number>, raw: () => Promise<number>) =>
  comparePair(ROUNDS, component, raw);

const service = await startKafka();
const run = randomUUID().slice(0, 8);
const topic = `bench-${run}`;
const rawTopic = `bench-raw-${run}`;
const pubsub = await createKafkaPubSub({ brokers: service.brokers.join(","), clientID: "bench" });
const kafka = new Kafka({
  clientId: "bench-raw",
  brokers: service.brokers,
  logLevel: logLevel.NOTHING,
});
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const admin = kafka.admin();
await producer.connect();
await admin.connect();
await admin.createTopics({ topics: [{ topic: rawTopic }], waitForLeaders: true });

const data = new Uint8Array(body);
const metadata = { partitionKey: "bench-key", source: "bench" };
const entries = Array.from({ length: MESSAGES }, (_, i) => ({
  entryId: String(i),
  event: data,
  metadata,
}));
const rawMessages = () =>
  Array.from({ length: MESSAGES }, () => ({
    key: "bench-key",
    value: body,
    headers: { source: "bench" },
  }));

const rows: RatioRow[] = [];
try {
  // Warm both paths (topic creation, metadata, connections) before measuring.
  await pubsub.bulkPublish({ topic, entries: entries.slice(0, 1000) });
  await producer.send({ topic: rawTopic, acks: -1, messages: rawMessages().slice(0, 1000) });

  rows.push([
    `bulk publish x${MESSAGES}`,
    ...(await compare(
      () =>
        opsPerSecond(MESSAGES, async () => {
          const { failedEntries } = await pubsub.bulkPublish({ topic, entries });
          if (failedEntries.length > 0)
            throw new Error(`bulk publish failed: ${failedEntries[0]?.error}`);
        }),
      () =>
        opsPerSecond(MESSAGES, () =>
          producer.send({ topic: rawTopic, acks: -1, messages: rawMessages() }),
        ),
    )),
  ]);
  rows.push([
    `publish x${SINGLES}, ${IN_FLIGHT} in flight`,
    ...(await compare(
      () =>
        opsPerSecond(SINGLES, () =>
          inFlight(SINGLES, IN_FLIGHT, () => pubsub.publish({ topic, data, metadata })),
        ),
      () =>
        opsPerSecond(SINGLES, () =>
          inFlight(SINGLES, IN_FLIGHT, () =>
            producer.send({
              topic: rawTopic,
              acks: -1,
              messages: [{ key: "bench-key", value: body, headers: { source: "bench" } }],
            }),
          ),
        ),
    )),
  ]);
} finally {
  await pubsub.close();
  await admin.deleteTopics({ topics: [topic, rawTopic] }).catch(() => {});
  await admin.disconnect();
  await producer.disconnect();
  await service.stop();
}

printRatios(
  `pubsub.kafka vs raw kafkajs producer, ${body.length}-byte messages, acks=-1, median of ${ROUNDS}`,
  rows,
  "msg/s",
);
