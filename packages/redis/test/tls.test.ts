import { randomUUID } from "node:crypto";
import {
  makeTestCertificates,
  type RedisService,
  startRedis,
  type TestCertificates,
} from "@outrig/conformance/services";
import { ComponentError } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPubSub, createRedisStateStore } from "../src/index.ts";

// One Redis with a TLS listener that requires a client certificate, `requirepass` for the default
// user and an ACL user; certificates made for this run.
const PASSWORD = `pw-${randomUUID()}`;
const USER = { name: "outrig", password: `acl-${randomUUID()}` };
let certs: TestCertificates;
let redis: RedisService;
let address: string;

beforeAll(async () => {
  certs = await makeTestCertificates();
  redis = await startRedis({ tls: certs, password: PASSWORD, user: USER });
  address = `localhost:${redis.tlsPort}`;
});
afterAll(async () => {
  await redis?.stop();
});

async function failure(promise: Promise<{ close(): Promise<void> }>): Promise<ComponentError> {
  const outcome = await promise.then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ComponentError);
  return outcome as ComponentError;
}

describe("redis over TLS with authentication", () => {
  it("connects with enableTLS, the CA, a client certificate and the password; and as an ACL user", async () => {
    const tls = {
      enableTLS: "true",
      caCert: certs.caCert,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    };
    const store = await createRedisStateStore({
      redisHost: address,
      redisPassword: PASSWORD,
      ...tls,
    });
    try {
      await store.set({ key: "tls-k", value: { over: "tls" } });
      expect(await store.get({ key: "tls-k" })).toMatchObject({ etag: expect.any(String) });
    } finally {
      await store.close();
    }
    const pubsub = await createRedisPubSub({
      redisHost: `rediss://127.0.0.1:${redis.tlsPort}`,
      redisUsername: USER.name,
      redisPassword: USER.password,
      consumerID: "tls",
      ...tls,
      enableTLS: "false", // the rediss:// scheme alone turns TLS on
    });
    try {
      expect(await pubsub.client.acl("WHOAMI")).toBe(USER.name);
    } finally {
      await pubsub.close();
    }
  });

  it("refuses a server its caCert did not sign, naming host:port and not the password", async () => {
    const error = await failure(
      createRedisStateStore({
        redisHost: address,
        redisPassword: PASSWORD,
        enableTLS: "true",
        caCert: certs.otherCaCert,
        clientCert: certs.clientCert,
        clientKey: certs.clientKey,
        dialTimeout: "3s",
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(address);
    expect(error.message).toMatch(/TLS handshake failed.*certificate/i);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("is refused without a client certificate when the server requires one", async () => {
    const error = await failure(
      createRedisStateStore({
        redisHost: address,
        redisPassword: PASSWORD,
        enableTLS: "true",
        caCert: certs.caCert,
        dialTimeout: "3s",
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(address);
    // The alert, or (TLS 1.3, when the write wins the race) a reset with the hint.
    expect(error.message).toMatch(/client certificate|CERTIFICATE_REQUIRED/);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("reports a wrong password as ERR_UNAVAILABLE without echoing it", async () => {
    const wrong = `wrong-${randomUUID()}`;
    const error = await failure(
      createRedisStateStore({
        redisHost: address,
        redisPassword: wrong,
        enableTLS: "true",
        caCert: certs.caCert,
        clientCert: certs.clientCert,
        clientKey: certs.clientKey,
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(address);
    expect(error.message).toMatch(/WRONGPASS|credentials/);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("rejects TLS material without TLS by name", async () => {
    await expect(
      createRedisStateStore({ redisHost: address, caCert: certs.caCert }),
    ).rejects.toThrow(/caCert.*enableTLS/);
  });
});
