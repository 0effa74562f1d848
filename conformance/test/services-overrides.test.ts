import { afterEach, describe, expect, it } from "vitest";
import {
  startDynamoDB,
  startKafka,
  startMosquitto,
  startPostgres,
  startRabbitMQ,
  startRedis,
} from "../src/services/index.ts";
import { hostAndPort } from "../src/services/service.ts";

// The machine runs Redis, PostgreSQL, RabbitMQ and Mosquitto on their standard loopback ports
// before every session and CI run; these tests point the overrides at them.
const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe("OUTRIG_TEST_*_URL overrides reuse a running service", () => {
  it("redis: external handle, no container, restart refuses with a clear message", async () => {
    process.env.OUTRIG_TEST_REDIS_URL = "redis://127.0.0.1:6379";
    const redis = await startRedis();
    expect(redis).toMatchObject({
      name: "redis",
      external: true,
      image: undefined,
      containerId: undefined,
      host: "127.0.0.1",
      port: 6379,
      url: "redis://127.0.0.1:6379",
    });
    await redis.ping();
    await expect(redis.restart()).rejects.toThrow(/OUTRIG_TEST_REDIS_URL.*unset/);
    await expect(redis.stopTemporarily()).rejects.toThrow(/needs a container/);
    await redis.stop();
    await redis.ping(); // stop() never touches a service it did not start
  });

  it("postgres: reads user and database from the URL", async () => {
    process.env.OUTRIG_TEST_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
    const pg = await startPostgres();
    expect(pg).toMatchObject({ external: true, user: "postgres", database: "test", port: 5432 });
    expect(pg.connectionString).toBe("postgres://postgres@127.0.0.1:5432/test");
    await pg.ping();
  });

  it("rabbitmq: logs in with the URL's credentials", async () => {
    process.env.OUTRIG_TEST_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672";
    const rabbit = await startRabbitMQ();
    expect(rabbit).toMatchObject({ external: true, user: "guest", password: "guest", port: 5672 });
    await rabbit.ping();
  });

  it("rabbitmq: wrong credentials are not taken for ready", async () => {
    const { pingAmqp } = await import("../src/services/rabbitmq/probe.ts");
    await expect(pingAmqp("127.0.0.1", 5672, "guest", "wrong")).rejects.toThrow(
      /ACCESS_REFUSED|closed/,
    );
  });

  it("mosquitto: MQTT CONNECT accepted", async () => {
    process.env.OUTRIG_TEST_MQTT_URL = "mqtt://127.0.0.1:1883";
    const mqtt = await startMosquitto();
    expect(mqtt).toMatchObject({ external: true, url: "mqtt://127.0.0.1:1883", port: 1883 });
    await mqtt.ping();
  });

  it("kafka and dynamodb: an override nothing answers on fails with the variable's name", async () => {
    process.env.OUTRIG_TEST_KAFKA_BROKERS = "127.0.0.1:1";
    await expect(startKafka({ readyTimeoutMs: 500 })).rejects.toThrow(/OUTRIG_TEST_KAFKA_BROKERS/);
    process.env.OUTRIG_TEST_DYNAMODB_ENDPOINT = "http://127.0.0.1:1";
    await expect(startDynamoDB({ readyTimeoutMs: 500 })).rejects.toThrow(
      /OUTRIG_TEST_DYNAMODB_ENDPOINT/,
    );
  });
});

describe("hostAndPort", () => {
  it("reads URLs, host:port pairs and IPv6 literals, with a default port", () => {
    expect(hostAndPort("redis://127.0.0.1:6380", 6379)).toEqual({ host: "127.0.0.1", port: 6380 });
    expect(hostAndPort("redis://localhost", 6379)).toEqual({ host: "localhost", port: 6379 });
    expect(hostAndPort("broker:19092", 9092)).toEqual({ host: "broker", port: 19092 });
    expect(hostAndPort("[::1]:9092", 1)).toEqual({ host: "::1", port: 9092 });
  });
});
