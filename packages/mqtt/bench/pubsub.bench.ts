/**
 * Throughput of pubsub.mqtt3 against raw mqtt.js doing the same work (QoS 1 publishes awaited
 * until PUBACK, a QoS 1 subscription on a persistent session), in one process against one broker.
 * Prints messages/s for both and their ratio; it asserts nothing.
 *
 *   pnpm --filter @outrig/mqtt bench              (starts a Mosquitto container)
 *   OUTRIG_TEST_MQTT_URL=mqtt://127.0.0.1:1883 pnpm --filter @outrig/mqtt bench
 */
import { randomUUID } from "node:crypto";
import { startMosquitto } from "@outrig/conformance/services";
import {
  compareDelivered,
  compareInFlight,
  deliveredRate,
  printRatios,
  type RatioRow,
} from "@outrig/tools/bench";
import mqtt from "mqtt";
import { createMqttPubSub } from "../src/index.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const IN_FLIGHT = 64;
const body = Buffer.from(JSON.stringify({ name: "bench", tags: ["a", "b"], n: 42 }));

const ROUNDS = 3;

const service = await startMosquitto();
const run = randomUUID().slice(0, 8);
const topic = `bench/${run}/component`;
const rawTopic = `bench/${run}/raw`;
const pubsub = await createMqttPubSub({ url: service.url, consumerID: `bench-${run}`, qos: "1" });
const rawPub = await mqtt.connectAsync(service.url, {
  clientId: `bench-${run}-rawpub`,
  clean: true,
});
const rawSub = await mqtt.connectAsync(service.url, {
  clientId: `bench-${run}-rawsub`,
  clean: false,
});
const rows: RatioRow[] = [];
const stop = new AbortController();
try {
  let got = 0;
  await pubsub.subscribe({ topic, signal: stop.signal }, async () => {
    got++;
  });
  let rawGot = 0;
  rawSub.on("message", () => {
    rawGot++;
  });
  await rawSub.subscribeAsync(rawTopic, { qos: 1 });
  const data = new Uint8Array(body);
  const viaComponent = (): Promise<void> => pubsub.publish({ topic, data });
  const viaRaw = (): Promise<unknown> => rawPub.publishAsync(rawTopic, body, { qos: 1 });

  await deliveredRate(1000, IN_FLIGHT, viaComponent, () => got);
  await deliveredRate(1000, IN_FLIGHT, viaRaw, () => rawGot);

  // Publishing alone goes to topics nobody subscribed to, so no consumer shares the CPU.
  rows.push([
    "publish (QoS 1)",
    ...(await compareInFlight(
      ROUNDS,
      MESSAGES,
      IN_FLIGHT,
      () => pubsub.publish({ topic: `${topic}-alone`, data }),
      () => rawPub.publishAsync(`${rawTopic}-alone`, body, { qos: 1 }),
    )),
  ]);
  rows.push([
    "publish + consume (QoS 1)",
    ...(await compareDelivered(
      ROUNDS,
      MESSAGES,
      IN_FLIGHT,
      { publish: viaComponent, received: () => got },
      { publish: viaRaw, received: () => rawGot },
    )),
  ]);
} finally {
  stop.abort();
  await pubsub.close();
  await rawSub.unsubscribeAsync(rawTopic);
  await rawSub.endAsync();
  await rawPub.endAsync();
  await service.stop();
}

printRatios(
  `pubsub.mqtt3 vs raw mqtt.js, ${MESSAGES} messages of ${body.length} bytes, ${IN_FLIGHT} in flight, median of ${ROUNDS}`,
  rows,
  "msg/s",
);
