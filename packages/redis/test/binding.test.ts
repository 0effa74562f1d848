import { randomUUID } from "node:crypto";
import { startRedis } from "@outrig/conformance/services";
import { ComponentError, utf8 } from "@outrig/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisBinding } from "../src/binding.ts";

const redis = await startRedis();
const raw = new Redis(redis.url);
const binding = await createRedisBinding({ redisHost: redis.url });
afterAll(async () => {
  await binding.close();
  raw.disconnect();
  await redis.stop();
});

const key = (): string => `binding-test-${randomUUID()}`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe("bindings.redis", () => {
  it("create keeps bytes verbatim and get returns them; a missing key gives null data", async () => {
    const k = key();
    const data = new Uint8Array([0, 255, 10, 13, 200]);
    await binding.invoke({ operation: "create", data, metadata: { key: k } });
    expect((await binding.invoke({ operation: "get", metadata: { key: k } })).data).toEqual(data);
    expect((await binding.invoke({ operation: "get", metadata: { key: key() } })).data).toBeNull();
  });

  it("create with ttlInSeconds sets EX; without, no TTL", async () => {
    const k = key();
    await binding.invoke({
      operation: "create",
      data: bytes("a"),
      metadata: { key: k, ttlInSeconds: "100" },
    });
    const ttl = await raw.ttl(k);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    await binding.invoke({ operation: "create", data: bytes("b"), metadata: { key: k } });
    expect(await raw.ttl(k)).toBe(-1);
  });

  it("a key with a TTL of 1 s expires", async () => {
    const k = key();
    await binding.invoke({
      operation: "create",
      data: bytes("a"),
      metadata: { key: k, ttlInSeconds: "1" },
    });
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await binding.invoke({ operation: "get", metadata: { key: k } })).data).toBeNull();
  });

  it("increment returns the new value, sets a TTL when given, and keeps an existing one otherwise", async () => {
    const k = key();
    const first = await binding.invoke({ operation: "increment", metadata: { key: k } });
    expect(utf8(first.data as Uint8Array)).toBe("1");
    const second = await binding.invoke({
      operation: "INCREMENT",
      metadata: { key: k, ttlInSeconds: "50" },
    });
    expect(utf8(second.data as Uint8Array)).toBe("2");
    await binding.invoke({ operation: "increment", metadata: { key: k } });
    expect(await raw.ttl(k)).toBeGreaterThan(40);
    expect(await raw.get(k)).toBe("3");
    await binding.invoke({ operation: "increment", metadata: { key: k, ttlInSeconds: "-1" } });
    expect(await raw.ttl(k)).toBe(-1);
  });

  it("rejects a missing key, a bad TTL and incrementing a non-number", async () => {
    const missing = await binding.invoke({ operation: "get" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "ERR_INVALID_REQUEST" });
    const ttl = await binding
      .invoke({
        operation: "create",
        data: bytes("x"),
        metadata: { key: key(), ttlInSeconds: "soon" },
      })
      .catch((e: unknown) => e);
    expect(ttl).toMatchObject({ code: "ERR_INVALID_REQUEST" });
    const k = key();
    await binding.invoke({ operation: "create", data: bytes("abc"), metadata: { key: k } });
    const notNumber = await binding
      .invoke({ operation: "increment", metadata: { key: k } })
      .catch((e: unknown) => e);
    expect(notNumber).toBeInstanceOf(ComponentError);
  });

  it("rejects bad connection metadata and an unreachable server", async () => {
    await expect(createRedisBinding({})).rejects.toMatchObject({ code: "ERR_CONFIG_INVALID" });
    await expect(
      createRedisBinding({ redisHost: "127.0.0.1:1", dialTimeout: "500ms" }),
    ).rejects.toMatchObject({
      code: "ERR_UNAVAILABLE",
    });
  });
});
