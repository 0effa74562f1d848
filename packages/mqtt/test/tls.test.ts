import { randomUUID } from "node:crypto";
import {
  type MosquittoService,
  makeTestCertificates,
  startMosquitto,
  type TestCertificates,
} from "@outrig/conformance/services";
import { ComponentError } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMqttBinding, createMqttPubSub } from "../src/index.ts";

// One Mosquitto with two TLS listeners: user/password on tlsPort, client certificate on mtlsPort.
const PASSWORD = `pw-${randomUUID()}`;
let certs: TestCertificates;
let mosquitto: MosquittoService;

beforeAll(async () => {
  certs = await makeTestCertificates();
  mosquitto = await startMosquitto({ tls: certs, users: { app: PASSWORD } });
});
afterAll(async () => {
  await mosquitto?.stop();
});

async function failure(promise: Promise<{ close(): Promise<void> }>): Promise<ComponentError> {
  const outcome = await promise.then(
    async (component) => {
      await component.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ComponentError);
  return outcome as ComponentError;
}

async function roundTrip(metadata: Record<string, string>): Promise<string> {
  const pubsub = await createMqttPubSub({
    consumerID: `c-${randomUUID().slice(0, 8)}`,
    ...metadata,
  });
  try {
    const topic = `tls-${randomUUID().slice(0, 8)}`;
    const stop = new AbortController();
    let resolve: (text: string) => void = () => {};
    const got = new Promise<string>((r) => {
      resolve = r;
    });
    // subscribe resolves once the broker has the subscription, so the publish cannot miss it.
    await pubsub.subscribe({ topic, signal: stop.signal }, async (m) => {
      resolve(new TextDecoder().decode(m.data));
    });
    await pubsub.publish({ topic, data: new TextEncoder().encode("over tls") });
    const text = await got;
    stop.abort();
    return text;
  } finally {
    await pubsub.close();
  }
}

describe("pubsub.mqtt3 over TLS", () => {
  it("mqtts:// with the CA and a password, and ssl:// with a client certificate, deliver", async () => {
    expect(
      await roundTrip({
        url: `mqtts://app:${PASSWORD}@localhost:${mosquitto.tlsPort}`,
        caCert: certs.caCert,
      }),
    ).toBe("over tls");
    expect(
      await roundTrip({
        url: `ssl://127.0.0.1:${mosquitto.mtlsPort}`,
        caCert: certs.caCert,
        clientCert: certs.clientCert,
        clientKey: certs.clientKey,
      }),
    ).toBe("over tls");
  });

  it("bindings.mqtt3 publishes over mqtts:// with the CA and a password", async () => {
    const binding = await createMqttBinding({
      url: `mqtts://app:${PASSWORD}@localhost:${mosquitto.tlsPort}`,
      topic: `tls-${randomUUID().slice(0, 8)}`,
      caCert: certs.caCert,
    });
    try {
      await binding.invoke({ operation: "create", data: new TextEncoder().encode("over tls") });
    } finally {
      await binding.close();
    }
  });

  it("refuses a broker its caCert did not sign, naming host:port and not the password", async () => {
    const error = await failure(
      createMqttPubSub({
        url: `mqtts://app:${PASSWORD}@localhost:${mosquitto.tlsPort}`,
        caCert: certs.otherCaCert,
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(`localhost:${mosquitto.tlsPort}`);
    expect(error.message).toMatch(/TLS handshake failed.*certificate/i);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("reports a wrong password as ERR_UNAVAILABLE without echoing it (binding too)", async () => {
    const wrong = `wrong-${randomUUID()}`;
    const url = `tls://app:${wrong}@localhost:${mosquitto.tlsPort}`;
    for (const attempt of [
      createMqttPubSub({ url, caCert: certs.caCert }),
      createMqttBinding({ url, topic: "t", caCert: certs.caCert }).then(async (b) => {
        await b.invoke({ operation: "create", data: new Uint8Array([1]) });
        return b;
      }),
    ]) {
      const error = await failure(attempt);
      expect(error.code).toBe("ERR_UNAVAILABLE");
      expect(error.message).toContain(`localhost:${mosquitto.tlsPort}`);
      expect(error.message).toMatch(/[Nn]ot authorized|[Bb]ad user name or password/);
      expect(error.message).not.toContain(wrong);
    }
  });

  it("rejects TLS material on a plain tcp:// URL by name", async () => {
    await expect(
      createMqttPubSub({ url: mosquitto.url.replace("mqtt://", "tcp://"), caCert: certs.caCert }),
    ).rejects.toThrow(/caCert.*need a TLS URL/);
  });
});
