import { describeConfigurationStoreConformance } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisConfigurationStore, parseConfigurationValue } from "../src/index.ts";

// The reconnect case restarts the server, so this file has a container of its own.
const redis = await startRedis({ container: true });
const redisHost = `${redis.host}:${redis.port}`;
// Writes the way Dapr's docs do (redis-cli SET key "value||version"); reconnects on its own.
const writer = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: 20 });
writer.on("error", () => {});

afterAll(async () => {
  writer.disconnect();
  await redis.stop();
});

describeConfigurationStoreConformance({
  name: "redis",
  create: () => createRedisConfigurationStore({ redisHost, maxRetryBackoff: "200ms" }),
  write: async (key, value, version) => {
    await writer.set(key, `${value}||${version}`);
  },
  remove: async (key) => {
    await writer.del(key);
  },
  burst: "latest",
  restartServer: () => redis.restart(),
});

describe("configuration.redis layout", () => {
  it("reads Dapr's `value||version` strings (MSET as in Dapr's how-to) and skips keys of other types", async () => {
    await writer.mset("layout-orderId1", "101||1", "layout-orderId2", "102");
    await writer.hset("layout-a-hash", "data", "x");
    const store = await createRedisConfigurationStore({ redisHost });
    try {
      expect(await store.get(["layout-orderId1", "layout-orderId2", "layout-a-hash"])).toEqual({
        "layout-orderId1": { value: "101", version: "1", metadata: {} },
        "layout-orderId2": { value: "102", version: "", metadata: {} },
      });
      const all = await store.get([]);
      expect(all["layout-orderId1"]?.value).toBe("101");
      expect(all["layout-a-hash"]).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("subscribing switches keyspace notifications on, keeping flags already set", async () => {
    await writer.config("SET", "notify-keyspace-events", "Ex");
    const store = await createRedisConfigurationStore({ redisHost });
    try {
      await store.unsubscribe(await store.subscribe(["k"], {}, async () => undefined));
      const [, flags] = (await writer.config("GET", "notify-keyspace-events")) as string[];
      for (const f of "KEA") expect(flags).toContain(f);
    } finally {
      await store.close();
    }
  });

  it("splits value and version at the first `||`, as Dapr does", () => {
    expect(parseConfigurationValue("a||2")).toEqual({ value: "a", version: "2" });
    expect(parseConfigurationValue("plain")).toEqual({ value: "plain", version: "" });
    expect(parseConfigurationValue("a||2||x")).toEqual({ value: "a", version: "2" });
    expect(parseConfigurationValue("||")).toEqual({ value: "", version: "" });
  });
});
