/**
 * Throughput of pubsub.rabbitmq against raw amqplib doing the same work (a fanout exchange, a
 * queue bound to it, publisher confirms, manual acks), in one process against one broker. Prints
 * messages/s for both and their ratio; it asserts nothing.
 *
 *   pnpm --filter @outrig/rabbitmq bench            (starts a RabbitMQ container)
 *   OUTRIG_TEST_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672 pnpm --filter @outrig/rabbitmq bench
 */
import { randomUUID } from "node:crypto";
import { startRabbitMQ } from "@outrig/conformance/services";
import {
  compareDelivered,
  compareInFlight,
  deliveredRate,
  printRatios,
  type RatioRow,
} from "@outrig/tools/bench";
import amqp from "amqplib";
import { createRabbitMQPubSub } from "../src/index.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const IN_FLIGHT = 64;
const body = Buffer.from(JSON.stringify({ name: "bench", tags: ["a", "b"], n: 42 }));

const ROUNDS = 3;

const service = await startRabbitMQ();
const run = randomUUID().slice(0, 8);
const topic = `bench-${run}`;
const rawTopic = `bench-raw-${run}`;
const pubsub = await createRabbitMQPubSub({
  connectionString: service.url,
  consumerID: `bench-${run}`,
  prefetchCount: "256",
});
const conn = await amqp.connect(service.url);
const pubCh = await conn.createConfirmChannel();
const subCh = await conn.createChannel();
const rows: RatioRow[] = [];
try {
  let got = 0;
  await pubsub.subscribe({ topic }, async () => {
    got++;
  });
  let rawGot = 0;
  await subCh.assertExchange(rawTopic, "fanout", { durable: false, autoDelete: true });
  const q = await subCh.assertQueue(`bench-raw-${run}-q`, { autoDelete: true });
  await subCh.bindQueue(q.queue, rawTopic, "");
  await subCh.prefetch(256);
  await subCh.consume(q.queue, (m) => {
    if (!m) return;
    rawGot++;
    subCh.ack(m);
  });
  const data = new Uint8Array(body);
  const viaComponent = (): Promise<void> => pubsub.publish({ topic, data });
  const viaRaw = (): Promise<void> =>
    new Promise((resolve, reject) => {
      pubCh.publish(rawTopic, "", body, { headers: {} }, (err: unknown) =>
        err ? reject(err) : resolve(),
      );
    });

  // Warm both paths before measuring.
  await deliveredRate(1000, IN_FLIGHT, viaComponent, () => got);
  await deliveredRate(1000, IN_FLIGHT, viaRaw, () => rawGot);

  rows.push([
    "publish (confirmed)",
    ...(await compareInFlight(ROUNDS, MESSAGES, IN_FLIGHT, viaComponent, viaRaw)),
  ]);
  rows.push([
    "publish + consume + ack",
    ...(await compareDelivered(
      ROUNDS,
      MESSAGES,
      IN_FLIGHT,
      { publish: viaComponent, received: () => got },
      { publish: viaRaw, received: () => rawGot },
    )),
  ]);
} finally {
  await pubsub.close();
  await conn.close();
  await service.stop();
}

printRatios(
  `pubsub.rabbitmq vs raw amqplib, ${MESSAGES} messages of ${body.length} bytes, ${IN_FLIGHT} in flight, median of ${ROUNDS}`,
  rows,
  "msg/s",
);
