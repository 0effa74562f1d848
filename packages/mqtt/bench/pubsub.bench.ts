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
import { comparePair, deliveredRate, inFlightRate } from "@outrig/tools/bench";
import mqtt from "mqtt";
import { createMqttPubSub } from "../src/index.ts";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const IN_FLIGHT = 64;
const body = Buffer.from(JSON.stringify({ name: "bench", tags: ["a", "b"], n: 42 }));

const ROUNDS = 3;
const measure = (count: number, op: (i: number) => Promise<unknown>) =>
  inFlightRate(count, IN_FLIGHT, op);
const roundTrip = (count: number, publish: () => Promise<unknown>, received: () => number) =>
  deliveredRate(count, IN_FLIGHT, publish, received);
const compare = (component: () => Promise<number>, raw: () => Promise<number>) =>
  comparePair(ROUNDS, component, raw);

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
const rows: [string, number, number][] = [];
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

  await roundTrip(1000, viaComponent, () => got);
  await roundTrip(1000, viaRaw, () => rawGot);

  // Publishing alone goes to topics nobody subscribed to, so no consumer shares the CPU.
  rows.push([
    "publish (QoS 1)",
    ...(await compare(
      () => measure(MESSAGES, () => pubsub.publish({ topic: `${topic}-alone`, data })),
      () => measure(MESSAGES, () => rawPub.publishAsync(`${rawTopic}-alone`, body, { qos: 1 })),
    )),
  ]);
  rows.push([
    "publish + consume (QoS 1)",
    ...(await compare(
      () => roundTrip(MESSAGES, viaComponent, () => got),
      () => roundTrip(MESSAGES, viaRaw, () => rawGot),
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

console.log(
  `pubsub.mqtt3 vs raw mqtt.js, ${MESSAGES} messages of ${body.length} bytes, ${IN_FLIGHT} in flight, median of ${ROUNDS}`,
);
for (const [name, component, raw] of rows) {
  console.log(
    `${name.padEnd(26)} component ${component.toFixed(0).padStart(7)} msg/s   raw ${raw.toFixed(0).padStart(7)} msg/s   ratio ${(component / raw).toFixed(2)}`,
  );
}
