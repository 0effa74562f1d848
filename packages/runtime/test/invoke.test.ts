import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { fakeApp, freePort, sidecar } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(options: Parameters<typeof sidecar>[0] = {}) {
  const app = await fakeApp((r, res) => {
    if (r.url.startsWith("/dapr/")) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (r.url.startsWith("/fail")) {
      res.writeHead(418, { "content-type": "text/plain", "x-reason": "teapot" });
      res.end("short and stout");
      return;
    }
    res.writeHead(201, { "content-type": "application/json", "x-app": "yes" });
    res.end(JSON.stringify({ method: r.method, url: r.url, body: r.body }));
  });
  cleanups.push(app.close);
  const s = await sidecar({ appPort: app.port, ...options });
  cleanups.push(s.stop);
  await s.ready();
  return { s, app };
}

describe("service invocation", () => {
  it("proxies the path form with verb, query, headers and body unchanged both ways", async () => {
    const { s, app } = await setup();
    const res = await fetch(`${s.url}/v1.0/invoke/app1/method/api/v1/add?x=1&y=2`, {
      method: "PUT",
      headers: { "content-type": "text/plain", "x-custom": "c" },
      body: "payload",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-app")).toBe("yes");
    expect(await res.json()).toEqual({
      method: "PUT",
      url: "/api/v1/add?x=1&y=2",
      body: "payload",
    });
    const got = app.received.find((r) => r.url.startsWith("/api"));
    expect(got?.headers["x-custom"]).toBe("c");
    expect(got?.headers["dapr-caller-app-id"]).toBe("app1");
    expect(got?.headers["dapr-callee-app-id"]).toBe("app1");
    expect(got?.headers.traceparent).toMatch(/^00-/);
  });

  it("proxies the dapr-app-id header form and strips the header", async () => {
    const { s, app } = await setup();
    const res = await fetch(`${s.url}/add?q=1`, {
      method: "POST",
      headers: { "dapr-app-id": "app1" },
      body: "b",
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ method: "POST", url: "/add?q=1", body: "b" });
    expect(app.received.find((r) => r.url === "/add?q=1")?.headers["dapr-app-id"]).toBeUndefined();
  });

  it("serves API routes even with a dapr-app-id header (the header form is the fallback)", async () => {
    const { s, app } = await setup();
    const res = await fetch(`${s.url}/v1.0/state/statestore`, {
      method: "POST",
      headers: { "dapr-app-id": "app1", "content-type": "application/json" },
      body: '[{"key":"h","value":1}]',
    });
    expect(res.status).toBe(204);
    expect(app.received.some((r) => r.url.includes("state"))).toBe(false);
  });

  it("passes 4xx answers through unchanged", async () => {
    const { s } = await setup();
    const res = await fetch(`${s.url}/v1.0/invoke/app1/method/fail`);
    expect(res.status).toBe(418);
    expect(res.headers.get("x-reason")).toBe("teapot");
    expect(await res.text()).toBe("short and stout");
  });

  it("streams a chunked request body through", async () => {
    const { s } = await setup();
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${s.url}/v1.0/invoke/app1/method/stream`, { method: "POST" }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(Buffer.concat(chunks).toString()));
      });
      req.on("error", reject);
      req.write("part1-");
      setTimeout(() => req.end("part2"), 50);
    });
    expect(JSON.parse(body)).toMatchObject({ body: "part1-part2" });
  });

  it("streams a server-sent-events answer as it is produced", async () => {
    let finish: () => void = () => undefined;
    const sse = await fakeApp((_r, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      finish = () => res.end("data: last\n\n");
    });
    cleanups.push(sse.close);
    const s = await sidecar({ resolveApp: async () => ({ host: "127.0.0.1", port: sse.port }) });
    cleanups.push(s.stop);
    const res = await fetch(`${s.url}/v1.0/invoke/sse/method/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe("data: first\n\n");
    finish();
    let rest = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    expect(rest).toBe("data: last\n\n");
  });

  it("invokes other apps through resolveApp, and fails with 500 ERR_DIRECT_INVOKE when unknown", async () => {
    const other = await fakeApp((_r, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("from other");
    });
    cleanups.push(other.close);
    const { s } = await setup({
      resolveApp: async (id) =>
        id === "other" ? { host: "127.0.0.1", port: other.port } : undefined,
    });
    const ok = await fetch(`${s.url}/v1.0/invoke/other/method/hello`);
    expect(await ok.text()).toBe("from other");
    expect(other.received[0]?.headers["dapr-caller-app-id"]).toBe("app1");
    const missing = await fetch(`${s.url}/v1.0/invoke/ghost/method/hello`);
    expect(missing.status).toBe(500);
    expect(await missing.json()).toMatchObject({ errorCode: "ERR_DIRECT_INVOKE" });
  });

  it("answers 500 ERR_DIRECT_INVOKE when the app is down", async () => {
    const port = await freePort();
    const s = await sidecar({ resolveApp: async () => ({ host: "127.0.0.1", port }) });
    cleanups.push(s.stop);
    const res = await fetch(`${s.url}/v1.0/invoke/down/method/x`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toContain("failed to invoke, id: down");
  });
});

describe("app-max-concurrency", () => {
  it("lets at most appMaxConcurrency calls reach the app at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const { createServer } = await import("node:http");
    const slow = createServer((req, res) => {
      if (req.url === "/dapr/subscribe") {
        res.writeHead(404);
        res.end();
        return;
      }
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end("ok");
      }, 40);
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => slow.close(() => r())));
    const port = (slow.address() as { port: number }).port;
    const s = await sidecar({ appPort: port, appMaxConcurrency: 2 });
    cleanups.push(s.stop);
    await s.ready();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${s.url}/v1.0/invoke/app1/method/work`).then((r) => r.text()),
      ),
    );
    expect(answers).toEqual(Array(6).fill("ok"));
    expect(peak).toBe(2);
  });
});

describe("API token, health and metadata", () => {
  it("requires dapr-api-token except on health, and sends APP_API_TOKEN to the app", async () => {
    const { s, app } = await setup({ apiToken: "s3cret", appApiToken: "app-token" });
    const denied = await fetch(`${s.url}/v1.0/metadata`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toBe("invalid api token");
    expect((await fetch(`${s.url}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${s.url}/v1.0/healthz/outbound`)).status).toBe(204);
    const ok = await fetch(`${s.url}/v1.0/invoke/app1/method/tok`, {
      headers: { "dapr-api-token": "s3cret" },
    });
    expect(ok.status).toBe(201);
    expect(app.received.find((r) => r.url === "/tok")?.headers["dapr-api-token"]).toBe("app-token");
  });

  it("is outbound-ready before the app listens, and ready only after", async () => {
    const port = await freePort();
    const s = await sidecar({ appPort: port });
    cleanups.push(s.stop);
    expect((await fetch(`${s.url}/v1.0/healthz/outbound`)).status).toBe(204);
    const notReady = await fetch(`${s.url}/v1.0/healthz`);
    expect(notReady.status).toBe(500);
    expect(await notReady.json()).toMatchObject({ errorCode: "ERR_HEALTH_NOT_READY" });
    const { createServer } = await import("node:http");
    const app = createServer((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => app.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => app.close(() => r())));
    await s.ready();
    expect((await fetch(`${s.url}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${s.url}/v1.0/healthz?appid=other`)).status).toBe(500);
  });

  it("serves metadata with components and extended fields, and stores PUT values", async () => {
    const { s } = await setup({ extendedMetadata: { cliPID: "42" } });
    const put = await fetch(`${s.url}/v1.0/metadata/appCommand`, {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "node app.js",
    });
    expect(put.status).toBe(204);
    const meta = (await (await fetch(`${s.url}/v1.0/metadata`)).json()) as Record<string, unknown>;
    expect(meta.id).toBe("app1");
    expect(meta.extended).toMatchObject({
      cliPID: "42",
      appCommand: "node app.js",
      daprRuntimeVersion: expect.any(String),
    });
    expect(meta.components).toEqual(
      expect.arrayContaining([
        {
          name: "statestore",
          type: "state.in-memory",
          version: "v1",
          capabilities: expect.arrayContaining(["ETAG", "TRANSACTIONAL"]),
        },
        {
          name: "pubsub",
          type: "pubsub.in-memory",
          version: "v1",
          capabilities: expect.any(Array),
        },
      ]),
    );
    expect(meta.appConnectionProperties).toMatchObject({
      port: expect.any(Number),
      protocol: "http",
      channelAddress: "127.0.0.1",
    });
  });

  it("POST /v1.0/shutdown answers 204 and stops the sidecar", async () => {
    let called = false;
    const s = await sidecar({ onShutdown: () => (called = true) });
    cleanups.push(s.stop);
    const res = await fetch(`${s.url}/v1.0/shutdown`, { method: "POST" });
    expect(res.status).toBe(204);
    await new Promise((r) => setTimeout(r, 20));
    expect(called).toBe(true);
  });
});
