import { describeSidecarConformance, type StartSidecar } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { afterAll } from "vitest";
import { manifest } from "../src/index.ts";

// The package's shared Redis (global setup); the suite starts its sidecar while it is collected.
const redis = await startRedis();
afterAll(() => redis.stop());

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// state.redis, pubsub.redis and bindings.redis in one sidecar over the same server.
describeSidecarConformance({
  name: "redis",
  startSidecar: start,
  state: {
    type: "state.redis",
    metadata: { redisHost: `${redis.host}:${redis.port}` },
    etagsParsed: true,
  },
  pubsub: {
    type: "pubsub.redis",
    // A message the app answers RETRY is claimed again after processingTimeout (Dapr's redis
    // streams redelivery), so both are short here.
    metadata: {
      redisHost: `${redis.host}:${redis.port}`,
      consumerID: "sc-{runId}",
      processingTimeout: "1s",
      redeliverInterval: "500ms",
    },
  },
  binding: {
    type: "bindings.redis",
    metadata: { redisHost: `${redis.host}:${redis.port}` },
    output: (id) => ({ operation: "create", data: { id }, metadata: { key: `sc-${id}` } }),
    readBack: (id) => ({ operation: "get", metadata: { key: `sc-${id}` } }),
  },
  lock: { type: "lock.redis", metadata: { redisHost: `${redis.host}:${redis.port}` } },
});
