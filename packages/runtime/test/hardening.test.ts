// Issue 14 findings 1, 2, 3 and 6: token bypass and SSRF, calls to the app that never ended,
// missing limits, and graceful drain. Each test failed against the sidecar before the fix.
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { megabytesToBytes, parseQuantity } from "../src/index.ts";
import { instances } from "./fixtures/test-bindings.ts";
import { fakeApp, type Received, STATE_AND_PUBSUB, sidecar, until } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type Reply = Parameters<typeof fakeApp>[0];

/** An app whose /hang never answers, /slow answers after 400 ms, anything else at once. */
const appReply =
  (subscribe: unknown[] = []): Reply =>
  (r, res) => {
    if (r.url === "/dapr/subscribe") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(subscribe));
      return;
    }
    if (r.url.startsWith("/hang")) return;
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: r.url, token: r.headers["dapr-api-token"] ?? null }));
    };
    if (r.url.startsWith("/slow")) setTimeout(answer, 400);
    else answer();
  };

async function setup(options: Parameters<typeof sidecar>[0] = {}, subscribe: unknown[] = []) {
  const app = await fakeApp(appReply(subscribe));
  cleanups.push(app.close);
  const s = await sidecar({ appPort: app.port, appApiToken: "app-secret", ...options });
  cleanups.push(s.stop);
  await s.ready();
  return { s, app };
}

/** A raw request, path sent as is (no normalisation, like curl --path-as-is). */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          headers: res.headers,
        }),
      );
      res.on("error", reject);
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** Opens a socket, writes `data`, resolves when the server closes it (or after `withinMs`). */
function closedBy(
  port: number,
  data: string,
  withinMs: number,
): Promise<{ closed: boolean; got: string }> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: "127.0.0.1", port });
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, got });
    }, withinMs);
    socket.on("data", (c: Buffer) => {
      got += c.toString("utf8");
    });
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ closed: true, got });
    });
    socket.write(data);
  });
}

describe("1. token and path checks before routing", () => {
  it("exempts exactly GET /v1.0/healthz and /v1.0/healthz/outbound from the token", async () => {
    const { s, app } = await setup({ apiToken: "api-secret" });
    expect((await raw(s.httpPort, "GET", "/v1.0/healthz")).status).toBe(204);
    expect((await raw(s.httpPort, "GET", "/v1.0/healthz/outbound")).status).toBe(204);
    for (const path of ["/v1.0/healthzX", "/v1.0/healthz/outboundX", "/v1.0/healthz/x"]) {
      const res = await raw(s.httpPort, "GET", path, { "dapr-app-id": "app1" });
      expect(res.status, path).toBe(401);
      expect(res.body).toBe("invalid api token");
    }
    expect((await raw(s.httpPort, "POST", "/v1.0/healthz")).status).toBe(401);
    expect(app.received.filter((r) => !r.url.startsWith("/dapr/"))).toEqual([]);
  });

  it("refuses a wrong token of the same length and serves the right one", async () => {
    const { s } = await setup({ apiToken: "api-secret" });
    expect(
      (await raw(s.httpPort, "GET", "/v1.0/metadata", { "dapr-api-token": "api-secreT" })).status,
    ).toBe(401);
    expect((await raw(s.httpPort, "GET", "/v1.0/metadata", { "dapr-api-token": "" })).status).toBe(
      401,
    );
    expect(
      (await raw(s.httpPort, "GET", "/v1.0/metadata", { "dapr-api-token": "api-secret" })).status,
    ).toBe(200);
  });

  it("answers 400 to dot segments, plain or encoded, before any routing", async () => {
    const target = await fakeApp((_r, res) => res.end("internal"));
    cleanups.push(target.close);
    const { s } = await setup({ apiToken: "api-secret" });
    const headers = {
      "dapr-app-id": `http://127.0.0.1:${target.port}`,
      "dapr-api-token": "api-secret",
    };
    for (const path of [
      "/v1.0/healthz/../../internal/admin",
      "/v1.0/invoke/app1/method/../../v1.0/metadata",
      "/v1.0/state/statestore/%2e%2e",
      "/v1.0/state/statestore/..%2fx",
      "/v1.0/state/statestore/a%5c..%5cb",
      "/a/%2E/b",
      "/v1.0/state/statestore/%zz",
      "/v1.0/state/statestore/a%00b",
    ]) {
      const res = await raw(s.httpPort, "GET", path, headers);
      expect(res.status, path).toBe(400);
      expect(JSON.parse(res.body).errorCode).toBe("ERR_MALFORMED_REQUEST");
    }
    expect(target.received).toEqual([]);
  });

  it("calls a URL app id only when an HTTPEndpoint or allowedExternalHosts names its host", async () => {
    const target = await fakeApp((r, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ url: r.url, key: r.headers["x-key"] ?? null }));
    });
    cleanups.push(target.close);
    const url = encodeURIComponent(`http://127.0.0.1:${target.port}`);
    const token = { "dapr-api-token": "t" };
    const closed = await setup({ apiToken: "t" });
    const refused = await raw(closed.s.httpPort, "GET", `/v1.0/invoke/${url}/method/admin`, token);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ errorCode: "ERR_DIRECT_INVOKE" });
    expect(JSON.parse(refused.body).message).toContain("allowedExternalHosts");
    const viaHeader = await raw(closed.s.httpPort, "GET", "/admin", {
      ...token,
      "dapr-app-id": `http://127.0.0.1:${target.port}`,
    });
    expect(viaHeader.status).toBe(403);
    expect(target.received).toEqual([]);

    const listed = await setup({
      apiToken: "t",
      allowedExternalHosts: [`127.0.0.1:${target.port}`],
    });
    const ok = await raw(listed.s.httpPort, "GET", `/v1.0/invoke/${url}/method/admin?a=1`, token);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ url: "/admin?a=1", key: null });
    expect((await raw(listed.s.httpPort, "GET", `/v1.0/invoke/${url}/method/admin`)).status).toBe(
      401,
    );

    const endpoint = await setup({
      apiToken: "t",
      resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata: { name: billing }
spec:
  baseUrl: http://127.0.0.1:${target.port}/api/
  headers:
    - { name: x-key, value: k1 }
`,
    });
    const byName = await raw(
      endpoint.s.httpPort,
      "POST",
      "/v1.0/invoke/billing/method/charge",
      token,
      "{}",
    );
    expect(byName.status).toBe(200);
    expect(JSON.parse(byName.body)).toEqual({ url: "/api/charge", key: "k1" });
    const byUrl = await raw(endpoint.s.httpPort, "GET", `/v1.0/invoke/${url}/method/x`, token);
    expect(JSON.parse(byUrl.body)).toEqual({ url: "/x", key: "k1" });
  });
});

describe("2. calls to the app are cancelled, time out, and never starve deliveries", () => {
  const subscribe = [{ pubsubname: "pubsub", topic: "orders", route: "/orders" }];

  it("serves invocations and deliveries after 140 abandoned invocations", async () => {
    const { s, app } = await setup({}, subscribe);
    const callers = Array.from({ length: 140 }, () => new AbortController());
    const calls = callers.map((c) =>
      fetch(`${s.url}/v1.0/invoke/app1/method/hang`, { signal: c.signal }).catch(() => undefined),
    );
    await until(() => app.received.filter((r) => r.url === "/hang").length >= 128 || undefined);
    for (const c of callers) c.abort();
    await Promise.all(calls);
    const ok = await fetch(`${s.url}/v1.0/invoke/app1/method/ok`, {
      signal: AbortSignal.timeout(4000),
    });
    expect(ok.status).toBe(200);
    const published = await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"n":1}',
    });
    expect(published.status).toBe(204);
    await until(() => app.received.find((r) => r.url === "/orders"), 4000);
  });

  it("delivers while every invocation connection is held by a hung call", async () => {
    const { s, app } = await setup({}, subscribe);
    const callers = new AbortController();
    cleanups.push(async () => callers.abort());
    for (let i = 0; i < 130; i++) {
      fetch(`${s.url}/v1.0/invoke/app1/method/hang`, { signal: callers.signal }).catch(
        () => undefined,
      );
    }
    await until(() => app.received.filter((r) => r.url === "/hang").length >= 128 || undefined);
    await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"n":2}',
    });
    const got = await until(() => app.received.find((r) => r.url === "/orders"), 4000);
    expect(JSON.parse(got.body).data).toEqual({ n: 2 });
  });

  it("fails an invocation the app never answers after invocationTimeoutSeconds", async () => {
    const { s } = await setup({ invocationTimeoutSeconds: 0.3 });
    const res = await fetch(`${s.url}/v1.0/invoke/app1/method/hang`, {
      signal: AbortSignal.timeout(4000),
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toContain("no answer within 300ms");
  });

  it("applies a Resiliency app target's timeout as the invocation deadline", async () => {
    const { s } = await setup({
      resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: { name: r }
spec:
  policies:
    timeouts:
      quick: 300ms
  targets:
    apps:
      app1:
        timeout: quick
`,
    });
    const res = await fetch(`${s.url}/v1.0/invoke/app1/method/hang`, {
      signal: AbortSignal.timeout(4000),
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toContain("timed out after 300ms (resiliency timeout)");
  });
});

describe("3. limits", () => {
  const json = { "content-type": "application/json" };

  it("answers 413 to a body over maxBodySize, declared or chunked, and serves afterwards", async () => {
    const { s, app } = await setup({ maxBodySize: 1024 });
    const big = `[{"key":"k","value":"${"x".repeat(2000)}"}]`;
    const declared = await raw(s.httpPort, "POST", "/v1.0/state/statestore", json, big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).errorCode).toBe("ERR_BODY_TOO_LARGE");
    const chunked = await fetch(`${s.url}/v1.0/state/statestore`, {
      method: "POST",
      headers: json,
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    for (const path of [
      "/v1.0/invoke/app1/method/big",
      "/v1.0/publish/pubsub/t",
      "/v1.0/bindings/b",
    ]) {
      const res = await raw(s.httpPort, "POST", path, json, big);
      expect(res.status, path).toBe(413);
    }
    const streamed = await fetch(`${s.url}/v1.0/invoke/app1/method/big`, {
      method: "POST",
      body: new Blob(["y".repeat(100_000)]).stream(),
      duplex: "half",
    } as RequestInit).catch((e: Error) => e);
    if (!(streamed instanceof Error)) expect(streamed.status).toBe(413);
    expect(app.received.some((r) => r.url === "/big")).toBe(false);
    const small = await raw(
      s.httpPort,
      "POST",
      "/v1.0/state/statestore",
      json,
      '[{"key":"k","value":1}]',
    );
    expect(small.status).toBe(204);
  });

  it("has a 4 MiB default (Dapr's --max-body-size 4Mi)", async () => {
    const { s } = await setup();
    const over = await raw(
      s.httpPort,
      "POST",
      "/v1.0/publish/pubsub/t",
      json,
      Buffer.alloc(4 * 2 ** 20 + 1, 0x20),
    );
    expect(over.status).toBe(413);
    const at = await raw(
      s.httpPort,
      "POST",
      "/v1.0/publish/pubsub/t",
      json,
      `"${"x".repeat(4 * 2 ** 20 - 2)}"`,
    );
    expect(at.status).toBe(204);
  });

  it("closes a connection whose request is refused instead of reading its body", async () => {
    const { s } = await setup({ apiToken: "t" });
    const head =
      "POST /v1.0/state/statestore HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
      "content-length: 200000000\r\n\r\n[";
    const refused = await closedBy(s.httpPort, head, 3000);
    expect(refused.got).toMatch(/^HTTP\/1\.1 401/);
    expect(refused.closed).toBe(true);
  });

  it("closes a socket whose headers never finish after headersTimeoutMs", async () => {
    const { s } = await setup({ headersTimeoutMs: 500 });
    const slow = await closedBy(s.httpPort, "GET /v1.0/metadata HTTP/1.1\r\nhost: x\r\n", 4000);
    expect(slow.closed).toBe(true);
  });

  it("closes a request whose body never finishes after requestTimeoutMs", async () => {
    const { s } = await setup({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const head =
      "POST /v1.0/state/statestore HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
      "content-length: 1000\r\n\r\n[";
    const slow = await closedBy(s.httpPort, head, 5000);
    expect(slow.closed).toBe(true);
    expect(slow.got).toMatch(/^HTTP\/1\.1 408/);
  });

  it("parses Kubernetes quantities for the CLI's size flags", () => {
    expect(parseQuantity("4Mi")).toBe(4 * 2 ** 20);
    expect(parseQuantity("512Ki")).toBe(512 * 1024);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(parseQuantity("100k")).toBe(100_000);
    expect(parseQuantity("2048")).toBe(2048);
    expect(megabytesToBytes(4)).toBe(4 * 2 ** 20);
    for (const bad of ["", "4MB", "-1", "Mi", "4 Xi"]) {
      expect(() => parseQuantity(bad), bad).toThrow(/invalid quantity/);
    }
  });
});

describe("6. graceful drain on stop", () => {
  it("lets an in-flight invocation finish with 200 and refuses new connections", async () => {
    const app = await fakeApp(appReply());
    cleanups.push(app.close);
    const s = await sidecar({ appPort: app.port });
    await s.ready();
    const call = fetch(`${s.url}/v1.0/invoke/app1/method/slow`);
    await until(() => app.received.find((r) => r.url === "/slow"));
    const stopping = s.stop();
    const res = await call;
    expect(res.status).toBe(200);
    // Answered while draining: its connection is not kept for another request.
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toMatchObject({ url: "/slow" });
    await stopping;
    await expect(fetch(`${s.url}/v1.0/healthz`)).rejects.toThrow();
  });

  it("acknowledges an in-flight input binding delivery instead of failing it", async () => {
    const app = await fakeApp((r: Received, res) => {
      if (r.url.startsWith("/dapr/")) {
        res.writeHead(404);
        res.end();
        return;
      }
      if (r.method === "OPTIONS") {
        res.writeHead(200);
        res.end();
        return;
      }
      setTimeout(() => {
        res.writeHead(200);
        res.end("done");
      }, 400);
    });
    cleanups.push(app.close);
    const s = await sidecar({
      appPort: app.port,
      resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: drainq }
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - { name: route, value: /in }
`,
    });
    await s.ready();
    const queue = instances.findLast((i) => i.handlers.length > 0);
    if (!queue) throw new Error("the input binding did not start");
    const delivering = queue.invoke({
      operation: "create",
      data: new TextEncoder().encode("{}"),
      metadata: {},
    });
    await until(() => app.received.find((r) => r.url === "/in" && r.method === "POST"));
    await s.stop();
    await delivering;
    expect(queue.failures).toEqual([]);
    expect(queue.replies).toHaveLength(1);
  });

  it("waits for an in-flight pub/sub delivery to be answered before closing the components", async () => {
    const subscribe = [{ pubsubname: "pubsub", topic: "orders", route: "/slow-orders" }];
    const app = await fakeApp(appReply(subscribe));
    cleanups.push(app.close);
    const s = await sidecar({ appPort: app.port });
    await s.ready();
    const answered: number[] = [];
    app.server.on("request", (req, res) => {
      if (req.url === "/slow-orders") res.once("finish", () => answered.push(Date.now()));
    });
    await fetch(`${s.url}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"n":3}',
    });
    await until(() => app.received.find((r) => r.url === "/slow-orders"));
    await s.stop();
    const stoppedAt = Date.now();
    // The app's answer went out before stop() resolved, and the message came exactly once.
    expect(answered).toHaveLength(1);
    expect(answered[0]).toBeLessThanOrEqual(stoppedAt);
    expect(app.received.filter((r) => r.url === "/slow-orders")).toHaveLength(1);
  });

  it("waits at most gracefulShutdownSeconds for calls in flight", async () => {
    const app = await fakeApp(appReply());
    cleanups.push(app.close);
    const s = await sidecar({ appPort: app.port, gracefulShutdownSeconds: 0.3 });
    await s.ready();
    const call = fetch(`${s.url}/v1.0/invoke/app1/method/hang`).catch((e: Error) => e);
    await until(() => app.received.find((r) => r.url === "/hang"));
    await s.stop();
    expect(await call).toBeInstanceOf(Error);
    await until(() => s.drain.inFlight === 0 || undefined);
  });
});
