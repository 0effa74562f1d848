// The standing bad-input suite (issue 14): malformed input at every HTTP route, each case with
// its exact status and error code, and after each one the sidecar must still serve an
// authenticated request with its RSS bounded. Property-based parts use fast-check.
import { request } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../../src/index.ts";
import { fakeApp, STATE_AND_PUBSUB, sidecar } from "../helpers.ts";
import { type BadCase, CASES, oversize } from "./cases.ts";

const TOKEN = "bad-input-token";
/** Small, so oversize cases are cheap; the 4 MiB default is tested in hardening.test.ts. */
const MAX_BODY = 64 * 1024;
/** The whole file may grow RSS by at most this much (the sidecar runs in this process). */
const RSS_GROWTH = 256 * 2 ** 20;

let s: Sidecar;
let app: Awaited<ReturnType<typeof fakeApp>>;
let rssAtStart = 0;

beforeAll(async () => {
  app = await fakeApp((r, res) => {
    if (r.url.startsWith("/dapr/")) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(r.body);
  });
  s = await sidecar({
    appPort: app.port,
    apiToken: TOKEN,
    maxBodySize: MAX_BODY,
    headersTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    resources: `${STATE_AND_PUBSUB}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: q }
spec:
  type: bindings.test-queue
  version: v1
  metadata:
    - { name: direction, value: output }
`,
  });
  await s.ready();
  rssAtStart = process.memoryUsage().rss;
});

afterAll(async () => {
  await s?.stop();
  await app?.close();
});

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port: s.httpPort,
      method,
      path,
      headers,
      agent: false,
    });
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          type: String(res.headers["content-type"] ?? ""),
        }),
      );
    });
    // A refused body may be cut off while it is still being written: the answer came first.
    req.once("error", reject);
    req.end(body);
  });
}

/** The sidecar still serves an authenticated round trip, and RSS stays bounded. */
async function stillServing(): Promise<void> {
  const put = await send(
    "POST",
    "/v1.0/state/statestore",
    { "content-type": "application/json", "dapr-api-token": TOKEN },
    '[{"key":"alive","value":{"ok":true}}]',
  );
  expect(put.status).toBe(204);
  const get = await send("GET", "/v1.0/state/statestore/alive", { "dapr-api-token": TOKEN });
  expect(get.status).toBe(200);
  expect(JSON.parse(get.body)).toEqual({ ok: true });
  expect(process.memoryUsage().rss - rssAtStart).toBeLessThan(RSS_GROWTH);
}

async function check(c: BadCase): Promise<void> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.token !== null) headers["dapr-api-token"] = c.token ?? TOKEN;
  const res = await send(c.method, c.path, headers, c.body);
  expect(res.status, `${c.name}: ${res.body.slice(0, 300)}`).toBe(c.status);
  if (c.error?.startsWith("text:")) expect(res.body).toBe(c.error.slice(5));
  else if (c.error) {
    expect(res.type).toContain("application/json");
    expect(JSON.parse(res.body).errorCode, res.body.slice(0, 300)).toBe(c.error);
  }
  await stillServing();
}

describe("bad input at every HTTP route", () => {
  it.for(CASES.map((c) => [c.name, c] as const))("%s", async ([, c]) => {
    await check(c);
  });

  it.for(oversize(MAX_BODY).map((c) => [c.name, c] as const))("%s", async ([, c]) => {
    await check(c);
  });

  it("answers 413 to an oversize chunked body without reading it all", async () => {
    const res = await fetch(`${s.url}/v1.0/state/statestore`, {
      method: "POST",
      headers: { "content-type": "application/json", "dapr-api-token": TOKEN },
      body: new Blob([Buffer.alloc(MAX_BODY * 4, 0x20)]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_BODY_TOO_LARGE");
    await stillServing();
  });

  it("closes slow clients (partial headers, endless body) and keeps serving meanwhile", async () => {
    let closedCount = 0;
    const seen: string[] = [];
    const sockets = Array.from({ length: 50 }, (_, i) => {
      const socket = connect({ host: "127.0.0.1", port: s.httpPort });
      socket.on("error", () => undefined);
      socket.on("data", (c: Buffer) => {
        seen[i] = (seen[i] ?? "") + c.toString().slice(0, 20);
      });
      socket.write(
        i % 2 === 0
          ? "GET /v1.0/metadata HTTP/1.1\r\nhost: x\r\n"
          : `POST /v1.0/state/statestore HTTP/1.1\r\nhost: x\r\ndapr-api-token: ${TOKEN}\r\ncontent-length: 999\r\n\r\n[`,
      );
      return new Promise<void>((resolve) =>
        socket.once("close", () => {
          closedCount++;
          resolve();
        }),
      );
    });
    await stillServing();
    let timer: NodeJS.Timeout | undefined;
    const all = await Promise.race([
      Promise.all(sockets).then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), 6000);
      }),
    ]);
    clearTimeout(timer);
    expect(closedCount, JSON.stringify(seen)).toBe(50);
    expect(all).toBe(true);
    await stillServing();
  });
});

describe("bad input, property-based", () => {
  it("any JSON body to state save is 204 or 400 ERR_MALFORMED_REQUEST, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.json({ maxDepth: 4 }), async (body) => {
        const res = await send(
          "POST",
          "/v1.0/state/statestore",
          { "content-type": "application/json", "dapr-api-token": TOKEN },
          body,
        );
        if (res.status !== 204) {
          expect(res.status, `${body} -> ${res.body}`).toBe(400);
          expect(JSON.parse(res.body).errorCode).toBe("ERR_MALFORMED_REQUEST");
        }
      }),
      { numRuns: 150 },
    );
    await stillServing();
  });

  it("any unicode key is saved and read back unchanged, or refused with 400", async () => {
    const refusedByPath = (k: string) =>
      k.includes("\0") || k.split(/[/\\]/).some((p) => p === "." || p === "..");
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
        fc.jsonValue({ maxDepth: 2 }),
        async (key, value) => {
          const headers = { "content-type": "application/json", "dapr-api-token": TOKEN };
          const body = JSON.stringify([{ key, value }]);
          const saved = await send("POST", "/v1.0/state/statestore", headers, body);
          if (key.includes("||")) {
            expect(saved.status).toBe(400);
            return;
          }
          expect(saved.status, saved.body).toBe(204);
          const got = await send(
            "GET",
            `/v1.0/state/statestore/${encodeURIComponent(key)}`,
            headers,
          );
          if (refusedByPath(key)) {
            expect(got.status).toBe(400);
            expect(JSON.parse(got.body).errorCode).toBe("ERR_MALFORMED_REQUEST");
            return;
          }
          // JSON has no -0 and no undefined: compare what JSON carries.
          if (value === null && got.status === 204) return;
          expect(got.status, `${key}: ${got.body}`).toBe(200);
          expect(JSON.parse(got.body)).toEqual(JSON.parse(JSON.stringify(value)));
        },
      ),
      { numRuns: 150 },
    );
    await stillServing();
  });

  it("any path is answered without a 5xx other than 501 for an unserved API, and the token is always checked", async () => {
    const segment = fc.string({
      unit: fc.constantFrom(..."abc.%/\\?#|~-_ 0123456789ABCDEFz"),
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async (parts, withToken) => {
          const path = `/v1.0/${parts.join("/")}`.replace(/[ #]/g, "%20");
          const headers: Record<string, string> = withToken ? { "dapr-api-token": TOKEN } : {};
          const res = await send("GET", path, headers);
          if (!withToken && res.status !== 400) expect(res.status, path).toBe(401);
          // 501 names a building block outrig does not serve (issue 20 §8).
          if (res.status === 501) expect(res.body, path).toContain("ERR_API_UNIMPLEMENTED");
          else expect(res.status, `${path}: ${res.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
    await stillServing();
  });
});
