// Streaming subscriptions (gRPC SubscribeTopicEventsAlpha1) through the sidecar on a real
// RabbitMQ: a @grpc/grpc-js client built from Dapr's proto drives the shared suite. The queue is
// durable per consumer, so what a stream leaves unacknowledged reaches the next stream.
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { describeStreamingSubscriptionConformance } from "@outrig/conformance";
import { startRabbitMQ } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, daprProtos, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { manifest } from "../src/index.ts";

const broker = await startRabbitMQ();
afterAll(() => broker.stop());

describeStreamingSubscriptionConformance({
  name: "rabbitmq",
  pubsub: {
    type: "pubsub.rabbitmq",
    metadata: {
      connectionString: broker.url,
      consumerID: `stream-${randomUUID().slice(0, 8)}`,
      durable: "true",
      deletedWhenUnused: "false",
      requeueInFailure: "true",
      prefetchCount: "10",
      concurrencyMode: "parallel",
    },
  },
  keepsMessagesBetweenStreams: true,
  waitAfterSubscribeMs: 200,
  startSidecar: async ({ appId, resources, streamMaxUnacked }) => {
    const s = await startSidecar({
      appId,
      resources,
      httpPort: 0,
      grpcPort: 0,
      logger: silentLogger,
      streamMaxUnacked,
      registry: createRegistry({ manifests: [manifest], discover: false }),
    });
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    return {
      url: s.url,
      openStream: () => client.SubscribeTopicEventsAlpha1(),
      stop: async () => {
        client.close();
        await s.stop();
      },
    };
  },
});
