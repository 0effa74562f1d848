// HTTPEndpoint resources (issue 20 §5): headers from secretKeyRef and clientTLS (rootCA,
// certificate and privateKey, each from a value or a secretKeyRef) are applied to calls to the
// external service: an HTTPS server that requires a client certificate (mTLS) sees them.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { makeTestCertificates, type TestCertificates } from "@outrig/conformance/services";
import { ConfigError, type Logger } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sidecar } from "../src/index.ts";
import { sidecar } from "./helpers.ts";

let certs: TestCertificates;
let server: Server;
let port: number;
let dir: string;
let secretsFile: string;

beforeAll(async () => {
  certs = await makeTestCertificates({ clientName: "endpoint-client" });
  server = createServer(
    {
      key: certs.serverKey,
      cert: certs.serverCert,
      ca: certs.caCert,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const body = JSON.stringify({
        path: req.url,
        authorization: req.headers.authorization ?? null,
        language: req.headers["accept-language"] ?? null,
        client: peer?.subject?.CN ?? null,
      });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), "outrig-endpoint-"));
  secretsFile = join(dir, "secrets.json");
  await writeFile(
    secretsFile,
    JSON.stringify({
      apiToken: "Bearer s3cret-token",
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    }),
  );
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

const secretStore = () => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localsecrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: ${secretsFile}
`;

function endpoint(name: string, tls: string, headers = ""): string {
  return `
---
apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: ${name}
spec:
  baseUrl: https://127.0.0.1:${port}/api
  headers:
    - name: Accept-Language
      value: en-US${headers}
  clientTLS:${tls}
auth:
  secretStore: localsecrets
`;
}

const ref = (name: string) => `
      secretKeyRef:
        name: ${name}
        key: ${name}`;

const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn(message, fields) {
    warnings.push({ message, ...(fields ? { fields } : {}) });
  },
  error() {},
};

let s: Sidecar;
beforeAll(async () => {
  s = await sidecar({
    logger,
    resources:
      secretStore() +
      endpoint(
        "secure",
        `
    rootCA:
      value: ${JSON.stringify(certs.caCert)}
    certificate:${ref("clientCert")}
    privateKey:${ref("clientKey")}`,
        `
    - name: Authorization${ref("apiToken")}`,
      ) +
      endpoint(
        "nocert",
        `
    rootCA:
      value: ${JSON.stringify(certs.caCert)}`,
      ) +
      endpoint(
        "stranger",
        `
    rootCA:
      value: ${JSON.stringify(certs.otherCaCert)}
    certificate:${ref("clientCert")}
    privateKey:${ref("clientKey")}`,
      ),
  });
});
afterAll(() => s?.stop());

describe("an HTTPEndpoint with clientTLS and secret headers", () => {
  it("reaches an mTLS server with the client certificate, the secret header and the plain one", async () => {
    const res = await fetch(`${s.url}/v1.0/invoke/secure/method/hello?x=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      path: "/api/hello?x=1",
      authorization: "Bearer s3cret-token",
      language: "en-US",
      client: "endpoint-client",
    });
  });

  it("is not warned about as unapplied", () => {
    expect(warnings.filter((w) => w.message.includes("HTTPEndpoint"))).toEqual([]);
  });

  it("without a client certificate the server refuses the handshake: 500 ERR_DIRECT_INVOKE", async () => {
    const res = await fetch(`${s.url}/v1.0/invoke/nocert/method/hello`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe("ERR_DIRECT_INVOKE");
  });

  it("trusting another CA, the server's certificate is refused: 500 naming the failure", async () => {
    const res = await fetch(`${s.url}/v1.0/invoke/stranger/method/hello`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe("ERR_DIRECT_INVOKE");
    expect(body.message).toMatch(/certificate/i);
  });
});

describe("a secret that cannot be read", () => {
  it("stops the start naming the endpoint, the field and the secret, never a value", async () => {
    const error = await sidecar({
      resources:
        secretStore() +
        endpoint(
          "broken",
          `
    certificate:${ref("noSuchCert")}
    privateKey:${ref("clientKey")}`,
        ),
    }).then(
      (started) => started.stop().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).issues.map((i) => `${i.field}: ${i.message}`).join("\n");
    expect(text).toContain("broken (HTTPEndpoint) spec.clientTLS.certificate");
    expect(text).toContain("secret noSuchCert/noSuchCert not found in localsecrets");
    expect(text).not.toContain("PRIVATE KEY");
  });
});
