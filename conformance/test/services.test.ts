import { createConnection } from "node:net";
import { getContainerRuntimeClient } from "testcontainers";
import { describe, expect, it } from "vitest";
import {
  removeTestContainers,
  sharedServices,
  startDynamoDB,
  startKafka,
  startMosquitto,
  startPostgres,
  startRabbitMQ,
  startRedis,
  useService,
} from "../src/services/index.ts";
import { pingKafka } from "../src/services/kafka/probe.ts";
import { pingMqtt } from "../src/services/mosquitto/probe.ts";
import { pingRedis } from "../src/services/redis/probe.ts";

const SLOW = 240_000;

/** Resolves true when something accepts TCP connections on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(2_000);
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

// Each test starts its own container (not the override) so it checks the image and definition.
describe("test services", () => {
  it(
    "redis answers PING, goes down with stopTemporarily, and comes back on the same port after restart",
    async () => {
      await using redis = await startRedis({ container: true });
      expect(redis.external).toBe(false);
      expect(redis.url).toBe(`redis://${redis.host}:${redis.port}`);
      await pingRedis(redis.host, redis.port);

      const port = redis.port;
      await redis.stopTemporarily();
      await expect(pingRedis(redis.host, port)).rejects.toThrow();
      await redis.start();
      await pingRedis(redis.host, port);

      await redis.restart();
      expect(redis.port).toBe(port);
      await pingRedis(redis.host, port);

      await redis.stop();
      expect(await accepts(redis.host, port)).toBe(false);
    },
    SLOW,
  );

  it(
    "postgres accepts connections and restarts on the same port",
    async () => {
      await using pg = await startPostgres({ container: true });
      expect(pg.connectionString).toBe(`postgres://postgres:outrig@${pg.host}:${pg.port}/outrig`);
      await pg.ping();
      await pg.restart();
      await pg.ping();
    },
    SLOW,
  );

  it(
    "rabbitmq completes an AMQP login as guest",
    async () => {
      await using rabbit = await startRabbitMQ({ container: true });
      expect(rabbit.url).toBe(`amqp://guest:guest@${rabbit.host}:${rabbit.port}`);
      await rabbit.ping();
    },
    SLOW,
  );

  it(
    "mosquitto accepts an MQTT connection",
    async () => {
      await using mqtt = await startMosquitto({ container: true });
      expect(mqtt.url).toBe(`mqtt://${mqtt.host}:${mqtt.port}`);
      await mqtt.ping();
    },
    SLOW,
  );

  it(
    "kafka answers Metadata and advertises the address clients reach, also after a restart",
    async () => {
      await using kafka = await startKafka({ container: true });
      expect(kafka.brokers).toEqual([`${kafka.host}:${kafka.port}`]);
      const brokers = await pingKafka(kafka.host, kafka.port);
      expect(brokers.map((b) => `${b.host}:${b.port}`)).toEqual(kafka.brokers);
      await kafka.restart();
      expect(await pingKafka(kafka.host, kafka.port)).toHaveLength(1);
    },
    SLOW,
  );

  it(
    "dynamodb answers ListTables",
    async () => {
      await using dynamo = await startDynamoDB({ container: true });
      expect(dynamo.endpoint).toBe(`http://${dynamo.host}:${dynamo.port}`);
      await dynamo.ping();
    },
    SLOW,
  );
});

describe("useService", () => {
  const mqtt = useService(() => startMosquitto({ container: true }));

  it("starts the service once for the file and hands it to the tests", async () => {
    expect(mqtt().name).toBe("mosquitto");
    expect(mqtt().containerId).toMatch(/^[0-9a-f]{12,}$/);
    await pingMqtt(mqtt().host, mqtt().port);
  });
});

describe("an image that is not there", () => {
  it("fails to start with a message naming the image and how to build it", async () => {
    await expect(
      startRedis({ container: true, image: "localhost/outrig-does-not-exist:1" }),
    ).rejects.toThrow(/localhost\/outrig-does-not-exist:1.*pnpm conformance:images/s);
  }, 60_000);
});

describe("removeTestContainers", () => {
  it("removes containers whose test process is gone and keeps the live ones", async () => {
    await using redis = await startRedis({ container: true });
    const client = await getContainerRuntimeClient();
    const mine = await client.container.getById(redis.containerId!).inspect();
    expect(mine.Config.Labels).toMatchObject({
      "outrig.test": "true",
      "outrig.service": "redis",
      "outrig.pid": String(process.pid),
    });
    const orphan = await client.container.dockerode.createContainer({
      Image: redis.image,
      Labels: { "outrig.test": "true", "outrig.service": "redis", "outrig.pid": "2147483646" },
    });
    const removed = await removeTestContainers();
    expect(removed).toBeGreaterThanOrEqual(1);
    await expect(orphan.inspect()).rejects.toMatchObject({ statusCode: 404 });
    await redis.ping();
  }, 60_000);
});

describe("sharedServices (vitest globalSetup)", () => {
  it("starts a service once, points the override at it, and undoes both in teardown", async () => {
    const before = process.env.OUTRIG_TEST_REDIS_URL;
    const teardown = await sharedServices(() => startRedis({ container: true }))();
    const url = process.env.OUTRIG_TEST_REDIS_URL;
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const reused = await startRedis();
    expect(reused).toMatchObject({ external: true, url });
    await reused.ping();
    await teardown();
    expect(process.env.OUTRIG_TEST_REDIS_URL).toBe(before);
    expect(await accepts(reused.host, reused.port)).toBe(false);
  }, 60_000);
});
