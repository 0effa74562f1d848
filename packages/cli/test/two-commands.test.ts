import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startRedis, useService } from "@outrig/conformance/services";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

// Two `outrig run` commands are two processes, so pub/sub between them needs a broker outside
// both: a real Redis (a container, or the one OUTRIG_TEST_REDIS_URL names) behind pubsub.redis.
const redis = useService(() => startRedis());

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A resources directory with Dapr's usual pair: Redis pub/sub and a SQLite statestore. */
async function writeResources(dir: string, redisHost: string): Promise<string> {
  const resources = join(dir, "resources");
  await mkdir(resources, { recursive: true });
  await writeFile(
    join(resources, "pubsub.yaml"),
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: ${JSON.stringify(redisHost)}
`,
  );
  await writeFile(
    join(resources, "statestore.yaml"),
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: ${JSON.stringify(join(dir, "state.db"))}
`,
  );
  return resources;
}

function start(args: string[], home: string): CliProcess {
  // The apps run from the fixtures directory; the runtime resolves @outrig/redis from there.
  const cli = new CliProcess(args, { home, cwd: fixtures });
  running.push(cli);
  return cli;
}

interface Metadata {
  id: string;
  components: { name: string; type: string }[];
  subscriptions: { pubsubname: string; topic: string }[];
}

describe("two outrig run commands over Redis pub/sub, with the @dapr/dapr SDK", {
  timeout: 60_000,
}, () => {
  it("one publishes and invokes, the other subscribes and answers", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const { host, port } = redis();
    const resources = await writeResources(home, `${host}:${port}`);
    // Unique per run: the consumer group is the app id, and a shared Redis keeps its streams.
    const suffix = `${process.pid}-${Date.now()}`;
    const subscriberId = `subscriber-${suffix}`;
    const publisherId = `publisher-${suffix}`;

    const appPort = await freePort();
    const subscriber = start(
      [
        "run",
        "--app-id",
        subscriberId,
        "--app-port",
        String(appPort),
        "--resources-path",
        resources,
        "--",
        process.execPath,
        join(fixtures, "subscriber.mjs"),
      ],
      home,
    );
    const [, subscriberHttpPort] = await subscriber.waitFor(/HTTP Port: (\d+)/);
    await subscriber.waitFor(/== APP == subscriber ready/);
    await subscriber.waitFor(/You're up and running/);
    const metadata = (await (
      await fetch(`http://127.0.0.1:${subscriberHttpPort}/v1.0/metadata`)
    ).json()) as Metadata;
    expect(metadata.id).toBe(subscriberId);
    expect(metadata.components.map(({ name, type }) => ({ name, type }))).toEqual(
      expect.arrayContaining([
        { name: "pubsub", type: "pubsub.redis" },
        { name: "statestore", type: "state.sqlite" },
      ]),
    );

    // The publisher has no app port: a sidecar and a @dapr/dapr client that publishes an order
    // until the subscriber's app reports it (invoked by app id), then invokes `double`, and exits.
    const publisher = start(
      [
        "run",
        "--app-id",
        publisherId,
        "--resources-path",
        resources,
        "--",
        process.execPath,
        join(fixtures, "publisher.mjs"),
        subscriberId,
      ],
      home,
    );
    expect(await publisher.exited, publisher.output).toBe(0);
    const resultLine = publisher.output.match(/== APP == RESULT (.*)/);
    expect(resultLine, publisher.output).not.toBeNull();
    const result = JSON.parse((resultLine as RegExpMatchArray)[1] as string) as {
      order: { orderId: string };
      seen: { appId: string; received: unknown[] };
      doubled: unknown;
    };
    expect(result.order.orderId).toMatch(/^order-\d+$/);

    // A got exactly the event B published: the CloudEvent's data, through Redis.
    expect(subscriber.output).toContain(`== APP == received order ${JSON.stringify(result.order)}`);
    expect(result.seen.appId).toBe(subscriberId);
    expect(result.seen.received).toContainEqual(result.order);
    // B got A's answer to the invocation by app id.
    expect(result.doubled).toEqual({ doubled: 42, by: subscriberId });
    expect(publisher.output).toContain(`Exited App (${publisherId}) with code 0`);

    const after = (await (
      await fetch(`http://127.0.0.1:${subscriberHttpPort}/v1.0/metadata`)
    ).json()) as Metadata;
    expect(after.subscriptions).toContainEqual(
      expect.objectContaining({ pubsubname: "pubsub", topic: "orders" }),
    );

    const stop = await runCli(["stop", "--app-id", subscriberId], { home });
    expect(stop.code, stop.stderr).toBe(0);
    expect(await subscriber.exited, subscriber.output).toBe(0);
    const list = await runCli(["list", "-o", "json"], { home });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
