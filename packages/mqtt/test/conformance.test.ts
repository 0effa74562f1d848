import { randomUUID } from "node:crypto";
import {
  describePubSubConformance,
  describeSidecarConformance,
  type StartSidecar,
} from "@outrig/conformance";
import { startMosquitto } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { createMqttPubSub, manifest } from "../src/index.ts";

// Started while the file is collected: the sidecar suite below starts its sidecar then.
const broker = await startMosquitto();
afterAll(() => broker.stop());
const mosquitto = () => broker;

/** Every run gets its own client IDs, so persistent sessions never meet another run's. */
const consumerID = (variant: string): string => `conf-${variant}-${randomUUID().slice(0, 8)}`;

// Dapr's conformance configuration for pubsub.mqtt3: QoS 1, persistent sessions. A failed
// message is re-published to its topic (Dapr's backOffMaxRetries default 0).
const dapr = consumerID("qos1");
describePubSubConformance({
  name: "mqtt3-qos1",
  create: () =>
    createMqttPubSub({
      url: mosquitto().url,
      consumerID: dapr,
      qos: "1",
      retain: "false",
      cleanSession: "false",
    }),
  waitBeforePublishMs: 300,
});

// Exactly-once transfer, clean sessions, and failed handlers retried in-process (order kept).
const qos2 = consumerID("qos2");
describePubSubConformance({
  name: "mqtt3-qos2-retry",
  create: () =>
    createMqttPubSub({
      url: mosquitto().url,
      consumerID: qos2,
      qos: "2",
      cleanSession: "true",
      backOffMaxRetries: "-1",
      backOffInitialInterval: "50ms",
    }),
  waitBeforePublishMs: 300,
});

// At most once on the wire: only in-process redelivery is possible.
const qos0 = consumerID("qos0");
describePubSubConformance({
  name: "mqtt3-qos0",
  create: () =>
    createMqttPubSub({
      url: mosquitto().url,
      consumerID: qos0,
      qos: "0",
      backOffMaxRetries: "3",
      backOffInitialInterval: "50ms",
    }),
  waitBeforePublishMs: 300,
});

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// pubsub.mqtt3 and bindings.mqtt3 through the sidecar: the binding publishes to the topic it reads.
describeSidecarConformance({
  name: "mqtt3",
  startSidecar: start,
  pubsub: {
    type: "pubsub.mqtt3",
    metadata: { url: broker.url, consumerID: "sc-{runId}", qos: "1", cleanSession: "false" },
    waitBeforePublishMs: 300,
  },
  binding: {
    type: "bindings.mqtt3",
    metadata: { url: broker.url, topic: "sc-{runId}-binding", consumerID: "sc-{runId}-binding" },
    output: (id) => ({ operation: "create", data: { id } }),
    input: "round-trip",
  },
});
