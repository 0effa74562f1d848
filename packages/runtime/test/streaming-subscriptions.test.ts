// Streaming subscriptions (gRPC SubscribeTopicEventsAlpha1) with a @grpc/grpc-js client built
// from Dapr's proto, against the in-memory pub/sub; the RabbitMQ package runs the same suite on a
// real broker.

import * as grpc from "@grpc/grpc-js";
import { describeStreamingSubscriptionConformance } from "@outrig/conformance";
import { describe, expect, it } from "vitest";
import { daprProtos } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

describeStreamingSubscriptionConformance({
  name: "in-memory",
  pubsub: { type: "pubsub.in-memory", metadata: { redeliverInterval: "50ms" } },
  keepsMessagesBetweenStreams: false,
  startSidecar: async ({ appId, resources, streamMaxUnacked }) => {
    const s = await sidecar({ appId, resources, grpcPort: 0, streamMaxUnacked });
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

describe("a stream when the sidecar stops", () => {
  it("ends: the client sees its stream close, and the sidecar's stop does not wait for it", async () => {
    const s = await sidecar({ appId: "stream-stop", grpcPort: 0 });
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${s.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    try {
      const stream = client.SubscribeTopicEventsAlpha1();
      const opened = new Promise<void>((resolve) =>
        stream.on("data", (m: { initialResponse?: unknown }) => m.initialResponse && resolve()),
      );
      const closed = new Promise<string>((resolve) => {
        stream.on("end", () => resolve("end"));
        stream.on("error", (e: Error) => resolve(`error: ${e.message}`));
      });
      stream.write({ initialRequest: { pubsubName: "pubsub", topic: "t", metadata: {} } });
      await opened;
      await s.stop();
      expect(await closed).toBe("end");
    } finally {
      client.close();
    }
  });
});
