import { describeLockStoreConformance } from "@outrig/conformance";
import { startRedis } from "@outrig/conformance/services";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisLockStore } from "../src/index.ts";

// The suite creates its store while it is collected, so the service starts first.
const redis = await startRedis();
afterAll(async () => {
  await redis.stop();
});

// Every create() is a new connection: the second clients of the exclusion and durability cases
// are separate Redis clients, as separate sidecars would be.
describeLockStoreConformance({
  name: "redis",
  create: () => createRedisLockStore({ redisHost: `${redis.host}:${redis.port}` }),
  options: { expiryGraceMs: 300 },
});

describe("lock.redis layout (Dapr's standalone Redis lock)", () => {
  it("the lock is the resource key holding the owner, with a PX expiry; the script releases it", async () => {
    const store = await createRedisLockStore({ redisHost: redis.url });
    try {
      const key = `layout-${Date.now()}`;
      expect(
        await store.tryLock({ resourceId: key, lockOwner: "owner-1", expiryInSeconds: 30 }),
      ).toEqual({
        success: true,
      });
      expect(await store.client.get(key)).toBe("owner-1");
      const pttl = await store.client.pttl(key);
      expect(pttl).toBeGreaterThan(25_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
      // A lock daprd took (a plain string key) is honoured: another owner is refused.
      await store.client.set(`${key}-dapr`, "daprd-owner", "EX", 30);
      expect(
        await store.tryLock({ resourceId: `${key}-dapr`, lockOwner: "x", expiryInSeconds: 5 }),
      ).toEqual({ success: false });
      expect(await store.unlock({ resourceId: `${key}-dapr`, lockOwner: "daprd-owner" })).toEqual({
        status: 0,
      });
      expect(await store.client.exists(`${key}-dapr`)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("refuses failover and cluster mode by name", async () => {
    await expect(
      createRedisLockStore({ redisHost: redis.url, failover: "true" }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
      message: expect.stringContaining("failover"),
    });
    await expect(
      createRedisLockStore({ redisHost: redis.url, redisType: "cluster" }),
    ).rejects.toMatchObject({
      code: "ERR_CONFIG_INVALID",
      message: expect.stringContaining("redisType"),
    });
  });

  it("a server that is not there fails init with ERR_UNAVAILABLE naming host:port", async () => {
    await expect(
      createRedisLockStore({ redisHost: "127.0.0.1:1", dialTimeout: "1s", maxRetries: "0" }),
    ).rejects.toMatchObject({
      code: "ERR_UNAVAILABLE",
      message: expect.stringContaining("127.0.0.1:1"),
    });
  });
});
