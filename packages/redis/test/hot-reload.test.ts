// Hot reload against a real Redis: an edit of a running state.redis component applies to the
// next call, as the keys Redis holds show.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis } from "@outrig/conformance/services";
import { waitUntil } from "@outrig/conformance/testing";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const redis = await startRedis();
const appId = `reload-${randomUUID().slice(0, 8)}`;
let dir: string;
let s: Sidecar;
let raw: Redis;

const cache = (keyPrefix: string) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: cache
spec:
  type: state.redis
  metadata:
    - { name: redisHost, value: "${redis.host}:${redis.port}" }
    - { name: keyPrefix, value: ${keyPrefix} }
`;

beforeAll(async () => {
  raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await raw.connect();
  dir = await mkdtemp(join(tmpdir(), "outrig-redis-reload-"));
  await writeFile(join(dir, "cache.yaml"), cache("appid"));
  s = await startSidecar({
    appId,
    httpPort: 0,
    grpcPort: 0,
    enableMetrics: false,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resourcesPaths: [dir],
    schedulerStore: join(dir, "scheduler.db"),
  });
});
afterAll(async () => {
  await s?.stop();
  raw?.disconnect();
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const save = (key: string) =>
  fetch(`${s.url}/v1.0/state/cache`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ key, value: key }]),
  });

describe("hot reload of state.redis", () => {
  it("a keyPrefix edit applies to the next write, and removing the file unregisters the store", async () => {
    expect((await save("before")).status).toBe(204);
    expect(await raw.exists(`${appId}||before`)).toBe(1);

    await writeFile(join(dir, "cache.yaml"), cache("name"));
    // A fresh key each try: the tries before the reload land under the old prefix.
    let key = "";
    await waitUntil(
      async () => {
        key = `after-${randomUUID().slice(0, 8)}`;
        return (await save(key)).status === 204 && (await raw.exists(`cache||${key}`)) === 1;
      },
      5000,
      "a write under the new keyPrefix",
    );
    expect(await raw.exists(`${appId}||${key}`)).toBe(0);

    await rm(join(dir, "cache.yaml"));
    await waitUntil(async () => (await save("gone")).status !== 204, 5000, "store removed");
    const gone = await fetch(`${s.url}/v1.0/state/cache/gone`);
    expect(gone.status).toBe(500);
    expect(await gone.json()).toMatchObject({ errorCode: "ERR_STATE_STORE_NOT_CONFIGURED" });
  });
});
