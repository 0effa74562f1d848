// Dapr's transactional outbox on PostgreSQL + RabbitMQ (real servers): a state transaction and
// its message commit together, and the message is published after the commit at least once,
// even when the sidecar process is SIGKILLed between the commit and the publish.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPostgres, startRabbitMQ } from "@outrig/conformance/services";
import { waitFor, waitUntil } from "@outrig/conformance/testing";
import { type PubSubMessage, silentLogger } from "@outrig/core";
import { createRabbitMQPubSub, manifest as rabbitmqManifest } from "@outrig/rabbitmq";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const postgres = await startPostgres();
const rabbit = await startRabbitMQ();
const run = randomUUID().replaceAll("-", "").slice(0, 10);
const table = `outbox_${run}`;
const topic = `orders-${run}`;
const received: Record<string, unknown>[] = [];
const consumer = await createRabbitMQPubSub({
  connectionString: rabbit.url,
  consumerID: `outbox-reader-${run}`,
  durable: "true",
  deletedWhenUnused: "false",
});
let admin: pg.Client;

const resources = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orders
spec:
  type: state.postgresql
  metadata:
    - { name: connectionString, value: "${postgres.connectionString}" }
    - { name: tableName, value: ${table} }
    - { name: outboxPublishPubsub, value: events }
    - { name: outboxPublishTopic, value: ${topic} }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: events
spec:
  type: pubsub.rabbitmq
  metadata:
    - { name: connectionString, value: "${rabbit.url}" }
    - { name: durable, value: "true" }
    - { name: deletedWhenUnused, value: "false" }
`;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: postgres.connectionString });
  await admin.connect();
  await consumer.subscribe({ topic }, async (m: PubSubMessage) => {
    received.push(JSON.parse(Buffer.from(m.data).toString("utf8")) as Record<string, unknown>);
  });
});
afterAll(async () => {
  await consumer.close();
  await admin.end();
  await rabbit.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messagesFor = (key: string) =>
  received.filter((e) => (e.data as { key?: string } | undefined)?.key === key);
const outboxRows = async (appId: string): Promise<number> =>
  Number(
    (
      await admin.query(`SELECT count(*) AS n FROM ${table} WHERE key LIKE $1`, [
        `${appId}||outbox-%`,
      ])
    ).rows[0].n,
  );

const transaction = (base: string, operations: unknown[]) =>
  fetch(`${base}/v1.0/state/orders/transaction`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ operations }),
    signal: AbortSignal.timeout(15_000),
  });

/** The sidecar as its own process, so it can be SIGKILLed. */
async function sidecarProcess(
  appId: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; exited: Promise<NodeJS.Signals | number | null> }> {
  const child = spawn(
    process.execPath,
    ["--conditions=@outrig/source", join(here, "fixtures", "outbox-sidecar.ts")],
    {
      env: { ...process.env, OUTBOX_APP_ID: appId, OUTBOX_RESOURCES: resources, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<NodeJS.Signals | number | null>((r) =>
    child.once("exit", (code, signal) => r(signal ?? code)),
  );
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then((how) => reject(new Error(`sidecar exited before it was ready: ${how}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

describe("outbox: SIGKILL between commit and publish", () => {
  it("the state is committed, and its message is published by the restarted sidecar", async () => {
    const appId = `outbox-crash-${run}`;
    const order = { key: "order-1", item: "book", qty: 2 };
    const crashing = await sidecarProcess(appId, { OUTRIG_TEST_OUTBOX_CRASH: "after-commit" });
    const answer = await transaction(crashing.url, [
      { operation: "upsert", request: { key: "order-1", value: order } },
    ]).then(
      (r) => `HTTP ${r.status}`,
      () => "no answer",
    );
    expect(answer).toBe("no answer");
    expect(await crashing.exited).toBe("SIGKILL");

    // Committed: the state and the outbox record are in PostgreSQL; nothing was published.
    const state = await admin.query(`SELECT value FROM ${table} WHERE key = $1`, [
      `${appId}||order-1`,
    ]);
    expect(state.rows[0]?.value).toEqual(order);
    expect(await outboxRows(appId)).toBe(1);
    await sleep(500);
    expect(messagesFor("order-1")).toHaveLength(0);

    const restarted = await sidecarProcess(appId);
    try {
      const event = await waitFor(() => messagesFor("order-1")[0], 20_000, "the outbox message");
      expect(event).toMatchObject({
        specversion: "1.0",
        type: "com.dapr.event.sent",
        source: appId,
        topic,
        pubsubname: "events",
        datacontenttype: "application/json",
        data: order,
      });
      expect(String(event.id)).toMatch(/^outbox-/);
      await waitUntil(async () => (await outboxRows(appId)) === 0, 20_000, "record gone");
      const got = await fetch(`${restarted.url}/v1.0/state/orders/order-1`);
      expect(await got.json()).toEqual(order);
    } finally {
      restarted.child.kill("SIGTERM");
      await restarted.exited;
    }
  });
});

describe("outbox in one sidecar", () => {
  let s: Sidecar;
  const appId = `outbox-live-${run}`;
  beforeAll(async () => {
    s = await startSidecar({
      appId,
      httpPort: 0,
      logger: silentLogger,
      registry: createRegistry({ manifests: [manifest, rabbitmqManifest], discover: false }),
      resources,
    });
  });
  afterAll(() => s.stop());

  it("publishes one message per upsert after the commit (a projection replaces its key's message) and deletes the records", async () => {
    const r = await transaction(s.url, [
      { operation: "upsert", request: { key: "a", value: { key: "a", full: true } } },
      {
        operation: "upsert",
        request: {
          key: "a",
          value: { key: "a", projected: true },
          metadata: { "outbox.projection": "true" },
        },
      },
      { operation: "upsert", request: { key: "b", value: { key: "b" } } },
      { operation: "delete", request: { key: "nothing" } },
    ]);
    expect(r.status).toBe(204);
    await waitUntil(
      () => messagesFor("a").length > 0 && messagesFor("b").length > 0,
      20_000,
      "both",
    );
    expect(messagesFor("a").map((e) => e.data)).toEqual([{ key: "a", projected: true }]);
    expect(messagesFor("b").map((e) => e.data)).toEqual([{ key: "b" }]);
    // The projection is the message only: the state holds the upserted value.
    expect(await (await fetch(`${s.url}/v1.0/state/orders/a`)).json()).toEqual({
      key: "a",
      full: true,
    });
    expect(await outboxRows(appId)).toBe(0);
  });

  it("a projection without an upsert of its key fails the whole transaction (400), nothing saved or sent", async () => {
    const r = await transaction(s.url, [
      { operation: "upsert", request: { key: "c", value: { key: "c" } } },
      {
        operation: "upsert",
        request: { key: "d", value: { key: "d" }, metadata: { "outbox.projection": "true" } },
      },
    ]);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain(
      "outbox projection for key d",
    );
    expect((await fetch(`${s.url}/v1.0/state/orders/c`)).status).toBe(204);
    await sleep(500);
    expect(messagesFor("c")).toHaveLength(0);
  });
});
