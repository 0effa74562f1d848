import { randomUUID } from "node:crypto";
import {
  makeTestCertificates,
  type RabbitMQService,
  startRabbitMQ,
  type TestCertificates,
} from "@outrig/conformance/services";
import { ComponentError } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRabbitMQBinding, createRabbitMQPubSub, type RabbitMQPubSub } from "../src/index.ts";

// One RabbitMQ with an AMQPS listener (client certificates verified when presented, SASL
// EXTERNAL for the certificate's common name) and the user `app`; certificates made for this run.
const PASSWORD = `pw-${randomUUID()}`;
let certs: TestCertificates;
let rabbit: RabbitMQService;

beforeAll(async () => {
  certs = await makeTestCertificates();
  rabbit = await startRabbitMQ({ tls: certs, users: { app: PASSWORD } });
});
afterAll(async () => {
  await rabbit?.stop();
});

async function failure(promise: Promise<RabbitMQPubSub>): Promise<ComponentError> {
  const outcome = await promise.then(
    async (pubsub) => {
      await pubsub.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ComponentError);
  return outcome as ComponentError;
}

async function roundTrip(metadata: Record<string, string>): Promise<string> {
  const pubsub = await createRabbitMQPubSub({
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
    await pubsub.publish({ topic, data: new TextEncoder().encode("over amqps") });
    const text = await got;
    stop.abort();
    return text;
  } finally {
    await pubsub.close();
  }
}

describe("pubsub.rabbitmq over AMQPS", () => {
  it("amqps:// with the CA and a password, and hostname-style with a client certificate and SASL EXTERNAL, deliver", async () => {
    expect(
      await roundTrip({
        connectionString: `amqps://app:${PASSWORD}@localhost:${rabbit.tlsPort}`,
        caCert: certs.caCert,
      }),
    ).toBe("over amqps");
    expect(
      await roundTrip({
        protocol: "amqps",
        hostname: `localhost:${rabbit.tlsPort}`,
        caCert: certs.caCert,
        clientCert: certs.clientCert,
        clientKey: certs.clientKey,
        saslExternal: "true",
      }),
    ).toBe("over amqps");
  });

  it("refuses a broker its caCert did not sign, naming host:port and not the password", async () => {
    const error = await failure(
      createRabbitMQPubSub({
        connectionString: `amqps://app:${PASSWORD}@localhost:${rabbit.tlsPort}`,
        caCert: certs.otherCaCert,
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(`localhost:${rabbit.tlsPort}`);
    expect(error.message).toMatch(/TLS handshake failed.*certificate/i);
    expect(error.message).not.toContain(PASSWORD);
  });

  it("reports a wrong password as ERR_UNAVAILABLE without echoing it", async () => {
    const wrong = `wrong-${randomUUID()}`;
    const error = await failure(
      createRabbitMQPubSub({
        protocol: "amqps",
        hostname: `localhost:${rabbit.tlsPort}`,
        username: "app",
        password: wrong,
        caCert: certs.caCert,
      }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(`localhost:${rabbit.tlsPort}`);
    expect(error.message).toMatch(/ACCESS_REFUSED|refused|auth/i);
    expect(error.message).not.toContain(wrong);
  });

  it("bindings.rabbitmq takes the same TLS settings (Dapr's externalSasl) and names host:port when refused", async () => {
    const binding = await createRabbitMQBinding({
      host: `amqps://localhost:${rabbit.tlsPort}`,
      queueName: `tls-${randomUUID().slice(0, 8)}`,
      caCert: certs.caCert,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
      externalSasl: "true",
    });
    try {
      await binding.invoke({ operation: "create", data: new TextEncoder().encode("over amqps") });
    } finally {
      await binding.close();
    }
    const refused = await createRabbitMQBinding({
      host: `amqps://app:${PASSWORD}@localhost:${rabbit.tlsPort}`,
      queueName: "never",
      caCert: certs.otherCaCert,
    }).then(
      async (b) => {
        await b.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ComponentError);
    expect((refused as ComponentError).message).toContain(`localhost:${rabbit.tlsPort}`);
    expect((refused as ComponentError).message).toMatch(/TLS handshake failed/);
    expect((refused as ComponentError).message).not.toContain(PASSWORD);
  });

  it("rejects TLS material on amqp:// and SASL EXTERNAL without a client certificate by name", async () => {
    await expect(
      createRabbitMQPubSub({ connectionString: rabbit.url, caCert: certs.caCert }),
    ).rejects.toThrow(/caCert.*amqps/);
    await expect(
      createRabbitMQPubSub({
        connectionString: `amqps://localhost:${rabbit.tlsPort}`,
        saslExternal: "true",
      }),
    ).rejects.toThrow(/saslExternal.*clientCert/);
  });
});
