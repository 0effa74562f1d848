import { randomUUID } from "node:crypto";
import {
  type KafkaService,
  makeTestCertificates,
  startKafka,
  type TestCertificates,
} from "@outrig/conformance/services";
import { ComponentError } from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaBinding, createKafkaPubSub, type KafkaPubSub } from "../src/index.ts";

// One broker with an SSL listener (client certificate required) and a SASL_SSL one (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512 for the user `app`); certificates made for this run.
const PASSWORD = `pw${randomUUID().replaceAll("-", "")}`;
let certs: TestCertificates;
let kafka: KafkaService;

beforeAll(async () => {
  certs = await makeTestCertificates();
  kafka = await startKafka({ tls: certs, users: { app: PASSWORD } });
}, 150_000);
afterAll(async () => {
  await kafka?.stop();
});

const sasl = (mechanism: string, password = PASSWORD) => ({
  brokers: kafka.saslBrokers!.join(","),
  authType: "password",
  saslUsername: "app",
  saslPassword: password,
  saslMechanism: mechanism,
  caCert: certs.caCert,
});

async function failure(promise: Promise<KafkaPubSub>): Promise<ComponentError> {
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

/** Publishes one message and reads it back from the start of a fresh topic. */
async function roundTrip(metadata: Record<string, string>): Promise<string> {
  const pubsub = await createKafkaPubSub({
    consumerGroup: `g-${randomUUID().slice(0, 8)}`,
    initialOffset: "oldest",
    ...metadata,
  });
  try {
    const topic = `tls-${randomUUID().slice(0, 8)}`;
    await pubsub.publish({ topic, data: new TextEncoder().encode("over tls") });
    const stop = new AbortController();
    const got = new Promise<string>((resolve) => {
      void pubsub.subscribe({ topic, signal: stop.signal }, async (m) => {
        resolve(new TextDecoder().decode(m.data));
      });
    });
    const text = await got;
    stop.abort();
    return text;
  } finally {
    await pubsub.close();
  }
}

async function publishes(metadata: Record<string, string>): Promise<void> {
  const pubsub = await createKafkaPubSub(metadata);
  try {
    await pubsub.publish({ topic: `tls-${randomUUID().slice(0, 8)}`, data: new Uint8Array([1]) });
    await pubsub.ping();
  } finally {
    await pubsub.close();
  }
}

describe("pubsub.kafka over TLS", () => {
  it("SASL PLAIN over TLS with the CA delivers", async () => {
    expect(await roundTrip(sasl("PLAIN"))).toBe("over tls");
  }, 60_000);

  it("SASL SCRAM-SHA-256 and SCRAM-SHA-512 authenticate; skipVerify accepts any broker certificate", async () => {
    await publishes(sasl("SHA-256"));
    await publishes(sasl("SHA-512"));
    await publishes({ ...sasl("SHA-512"), caCert: certs.otherCaCert, skipVerify: "true" });
  }, 60_000);

  it("authType=mtls presents the client certificate the SSL listener requires", async () => {
    await publishes({
      brokers: kafka.sslBrokers!.join(","),
      authType: "mtls",
      caCert: certs.caCert,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    });
  }, 60_000);

  it("bindings.kafka takes the same settings: SCRAM over TLS, and mtls", async () => {
    for (const metadata of [
      sasl("SHA-512"),
      {
        brokers: kafka.sslBrokers!.join(","),
        authType: "mtls",
        caCert: certs.caCert,
        clientCert: certs.clientCert,
        clientKey: certs.clientKey,
      },
    ]) {
      const binding = await createKafkaBinding({
        ...metadata,
        publishTopic: `tls-${randomUUID().slice(0, 8)}`,
      });
      try {
        await binding.invoke({ operation: "create", data: new Uint8Array([1]) });
      } finally {
        await binding.close();
      }
    }
  }, 60_000);

  it("refuses brokers its caCert did not sign, naming host:port and not the password", async () => {
    const started = Date.now();
    const error = await failure(
      createKafkaPubSub({ ...sasl("SHA-512"), caCert: certs.otherCaCert }),
    );
    expect(error.code).toBe("ERR_UNAVAILABLE");
    expect(error.message).toContain(kafka.saslBrokers![0]);
    expect(error.message).toMatch(/TLS handshake failed.*certificate/i);
    expect(error.message).not.toContain(PASSWORD);
    // At once rather than after kafkajs's ~25 s of retrying a handshake that cannot succeed.
    expect(Date.now() - started).toBeLessThan(15_000);
    const refused = await createKafkaBinding({
      ...sasl("PLAIN"),
      caCert: certs.otherCaCert,
      publishTopic: "never",
    }).then(
      async (b) => {
        await b.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ComponentError);
    expect((refused as ComponentError).message).toContain(kafka.saslBrokers![0]);
    expect((refused as ComponentError).message).not.toContain(PASSWORD);
  }, 60_000);

  it("reports a wrong password as ERR_UNAVAILABLE without echoing it", async () => {
    const wrong = `wrong${randomUUID().replaceAll("-", "")}`;
    for (const mechanism of ["PLAIN", "SHA-256"]) {
      const error = await failure(createKafkaPubSub(sasl(mechanism, wrong)));
      expect(error.code).toBe("ERR_UNAVAILABLE");
      expect(error.message).toContain(kafka.saslBrokers![0]);
      expect(error.message).toMatch(/SASL|authentication/i);
      expect(error.message).not.toContain(wrong);
    }
  }, 60_000);
});
