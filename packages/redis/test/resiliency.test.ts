// Resiliency through the sidecar against a real Redis that is stopped and restarted: a retry
// policy carries a save across the outage (nothing lost), and a circuit breaker opens while
// Redis is down and closes once it is back.
import { randomUUID } from "node:crypto";
import { startRedis, useService } from "@outrig/conformance/services";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

// A restart needs a container of its own, even when OUTRIG_TEST_REDIS_URL points at a shared server.
const redis = useService(() => startRedis({ container: true }));

let sidecar: Sidecar;
beforeAll(async () => {
  const store = (name: string) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: ${redis().host}:${redis().port}
    - name: maxRetryBackoff
      value: 200ms
`;
  sidecar = await startSidecar({
    appId: "resilient-redis",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resources: [
      store("retried"),
      store("guarded"),
      `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: redis-outage
spec:
  policies:
    retries:
      patient:
        policy: constant
        duration: 250ms
        maxRetries: 80
    circuitBreakers:
      redisDown:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures > 1
  targets:
    components:
      retried:
        outbound:
          retry: patient
      guarded:
        outbound:
          circuitBreaker: redisDown
`,
    ].join("---\n"),
  });
}, 60_000);
afterAll(() => sidecar?.stop());

const save = (store: string, key: string, value: string) =>
  fetch(`${sidecar.url}/v1.0/state/${store}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([{ key, value }]),
  });
const read = async (store: string, key: string) => {
  const res = await fetch(`${sidecar.url}/v1.0/state/${store}/${key}`);
  return { status: res.status, body: await res.text() };
};

describe("state.redis through the sidecar while Redis restarts", () => {
  it("a retried save issued during the outage lands once Redis is back", async () => {
    const key = randomUUID();
    await redis().stopTemporarily();
    const pending = save("retried", key, "during");
    await new Promise((r) => setTimeout(r, 1500));
    await redis().start();
    expect((await pending).status).toBe(204);
    expect(await read("retried", key)).toEqual({ status: 200, body: '"during"' });
  }, 60_000);

  it("a circuit breaker opens while Redis is down (fast refusals) and closes after it is back", async () => {
    const key = randomUUID();
    expect((await save("guarded", key, "v")).status).toBe(204);
    await redis().stopTemporarily();
    try {
      for (let i = 0; i < 2; i++) expect((await read("guarded", key)).status).toBe(500);
      const began = Date.now();
      const refused = await read("guarded", key);
      expect(refused.status).toBe(500);
      expect(refused.body).toContain("circuit breaker redisDown");
      // Refused without calling Redis: not a timed benchmark, a bound far below any reconnect.
      expect(Date.now() - began).toBeLessThan(1000);
    } finally {
      await redis().start();
    }
    // After the open timeout a probe goes through; Redis answers, so the breaker closes.
    const deadline = Date.now() + 20_000;
    let last = await read("guarded", key);
    while (last.status !== 204 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      last = await read("guarded", key);
    }
    // The container keeps no data across the restart: the key is gone, the store answers.
    expect(last.status).toBe(204);
    expect((await save("guarded", key, "again")).status).toBe(204);
    expect(await read("guarded", key)).toEqual({ status: 200, body: '"again"' });
  }, 60_000);
});
