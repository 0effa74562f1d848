// Dapr's configuration quickstart (HTTP variant) through the sidecar against a real Redis: items
// written with MSET as `value||version`, read with GET /v1.0-alpha1/configuration/{store}?key=…,
// subscribed with /subscribe, each change POSTed to the app at /configuration/{store}/{key}.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startRedis } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const redis = await startRedis();
const prefix = `qs-${Date.now()}`;
const orderId1 = `${prefix}-orderId1`;
const orderId2 = `${prefix}-orderId2`;
let s: Sidecar;
let raw: Redis;
let app: Server;
const posted: {
  url: string;
  body: { id: string; items: Record<string, { value: string; version: string }> };
}[] = [];

beforeAll(async () => {
  raw = new Redis({ host: redis.host, port: redis.port, lazyConnect: true });
  await raw.connect();
  await raw.mset(orderId1, "101||1", orderId2, "102||1");
  app = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      // The sidecar also asks the app for its subscriptions; only configuration deliveries count.
      if (req.url?.startsWith("/configuration/")) {
        posted.push({ url: req.url, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      }
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  s = await startSidecar({
    appId: "order-processor",
    appPort: (app.address() as AddressInfo).port,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: config-store
spec:
  type: configuration.redis
  version: v1
  metadata:
    - name: redisHost
      value: ${redis.host}:${redis.port}
`,
  });
  await s.ready();
});
afterAll(async () => {
  await s?.stop();
  raw?.disconnect();
  await new Promise<void>((r) => app.close(() => r()));
});

describe("configuration.redis through the sidecar (the quickstart's HTTP shape)", () => {
  it("gets both items, then each SET reaches the app at /configuration/config-store/{key} until unsubscribed", async () => {
    const got = await fetch(
      `${s.url}/v1.0-alpha1/configuration/config-store?key=${orderId1}&key=${orderId2}`,
    );
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({
      [orderId1]: { value: "101", version: "1", metadata: {} },
      [orderId2]: { value: "102", version: "1", metadata: {} },
    });

    const sub = await fetch(
      `${s.url}/v1.0-alpha1/configuration/config-store/subscribe?key=${orderId1}&key=${orderId2}`,
    );
    const { id } = (await sub.json()) as { id: string };
    expect(id).toMatch(/.+/);
    await raw.set(orderId1, "103||2");
    await raw.set(orderId2, "104||2");
    const deadline = Date.now() + 10_000;
    while (posted.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(posted).toEqual([
      {
        url: `/configuration/config-store/${orderId1}`,
        body: { id, items: { [orderId1]: { value: "103", version: "2", metadata: {} } } },
      },
      {
        url: `/configuration/config-store/${orderId2}`,
        body: { id, items: { [orderId2]: { value: "104", version: "2", metadata: {} } } },
      },
    ]);

    const off = await fetch(`${s.url}/v1.0-alpha1/configuration/config-store/${id}/unsubscribe`);
    expect(await off.json()).toEqual({ ok: true });
    await raw.set(orderId1, "105||3");
    await new Promise((r) => setTimeout(r, 500));
    expect(posted).toHaveLength(2);
  });
});
