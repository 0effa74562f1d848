import { describeStateStoreConformance } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { afterAll } from "vitest";
import { createRedisStateStore } from "../src/index.ts";

// The suites create their component while they are collected, so the service starts first.
const redis = await startRedis();
afterAll(async () => {
  await redis.stop();
});

describeStateStoreConformance({
  name: "redis",
  create: () => createRedisStateStore({ redisHost: redis.url }),
  badEtag: "9999999",
  // Dapr's hash keeps JSON and bytes as the same `data` bytes.
  options: { valueKind: false },
});

// Another database and the host:port form of redisHost, as Dapr YAML writes it.
describeStateStoreConformance({
  name: "redis-db3",
  create: () => createRedisStateStore({ redisHost: `${redis.host}:${redis.port}`, redisDB: "3" }),
  badEtag: "9999999",
  // Dapr's hash keeps JSON and bytes as the same `data` bytes.
  options: { valueKind: false },
});
