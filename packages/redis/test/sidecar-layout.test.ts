// Dapr's Redis layout through the sidecar, both ways: a saved item is the `<appid>||<key>` hash
// {data, version} Dapr's component reads, and a hash laid out as Dapr writes it is served.
import { randomUUID } from "node:crypto";
import { startRedis } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const redis = await startRedis();
const appId = `layout-${randomUUID().slice(0, 8)}`;
let s: Sidecar;
let raw: Redis;

beforeAll(async () => {
  raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await raw.connect();
  s = await startSidecar({
    appId,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  metadata:
    - { name: redisHost, value: "${redis.host}:${redis.port}" }
`,
  });
});
afterAll(async () => {
  await s?.stop();
  raw?.disconnect();
  await redis.stop();
});

describe("state.redis through the sidecar, as Dapr's component lays it out", () => {
  it("a saved JSON value is the hash <appid>||<key> {data: its JSON, version}, the version the ETag", async () => {
    const save = await fetch(`${s.url}/v1.0/state/cache`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "order-1", value: { name: "zed" } }]),
    });
    expect(save.status).toBe(204);
    const hash = await raw.hgetall(`${appId}||order-1`);
    expect(Object.keys(hash).sort()).toEqual(["data", "version"]);
    expect(hash.data).toBe('{"name":"zed"}');
    const get = await fetch(`${s.url}/v1.0/state/cache/order-1`);
    expect(get.headers.get("etag")).toBe(hash.version);
    expect(await get.json()).toEqual({ name: "zed" });
  });

  it("a hash Dapr wrote is served, and a write with its version as ETag bumps it", async () => {
    await raw.hset(`${appId}||from-dapr`, { data: '"by daprd"', version: "7" });
    const get = await fetch(`${s.url}/v1.0/state/cache/from-dapr`);
    expect(get.headers.get("etag")).toBe("7");
    expect(await get.json()).toBe("by daprd");
    const update = await fetch(`${s.url}/v1.0/state/cache`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "from-dapr", value: "by outrig", etag: "7" }]),
    });
    expect(update.status).toBe(204);
    expect(await raw.hgetall(`${appId}||from-dapr`)).toEqual({ data: '"by outrig"', version: "8" });
  });
});
