import { describeBindingConformance } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { afterAll } from "vitest";
import { createRedisBinding, redisBindingDefinition } from "../src/binding.ts";

// The suites create their component while they are collected, so the service starts first.
const redis = await startRedis();
afterAll(async () => {
  await redis.stop();
});

// Dapr's tests.yml lists create and operations with `key: $((uuid))`; get, delete and increment
// are declared too, so they are tested.
describeBindingConformance({
  name: "redis",
  definition: redisBindingDefinition,
  createOutput: () => createRedisBinding({ redisHost: `${redis.host}:${redis.port}` }),
  operations: ["operations", "create", "get", "delete", "increment"],
  outputMetadata: (ctx) => ({ key: ctx.unique() }),
  quietPeriodMs: 200,
});
