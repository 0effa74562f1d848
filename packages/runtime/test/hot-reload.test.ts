import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { waitUntil } from "@outrig/conformance/testing";
import { type Logger, toBytes, utf8 } from "@outrig/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  createRuntime,
  daprProtos,
  HotReloader,
  type Sidecar,
  startSidecar,
} from "../src/index.ts";
import { componentYaml as component } from "./fixtures/component-yaml.ts";
import { fakeApp } from "./helpers.ts";

const WAIT_MS = 5000;

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line, so a test can wait for one and read what it names. */
function recordingLogger(): Logger & { lines: Line[]; has(part: string): boolean } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    has: (part) => lines.some((l) => l.message.includes(part)),
  };
}

const subscription = (name: string, topic: string, route: string) => `
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: ${name}
spec:
  pubsubname: pubsub
  topic: ${topic}
  routes:
    default: ${route}
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "outrig-hot-reload-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A sidecar over a fresh resources folder, holding `files` at start. */
async function start(
  files: Record<string, string>,
  extra: { appPort?: number } = {},
): Promise<{ sidecar: Sidecar; dir: string; log: ReturnType<typeof recordingLogger> }> {
  const dir = await tempDir();
  const data = await tempDir();
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const log = recordingLogger();
  const sidecar = await startSidecar({
    appId: "hot",
    httpPort: 0,
    grpcPort: 0,
    enableMetrics: false,
    resourcesPaths: [dir],
    schedulerStore: join(data, "scheduler.db"),
    logger: log,
    ...extra,
  });
  cleanups.push(() => sidecar.stop());
  return { sidecar, dir, log };
}

async function call(
  sidecar: Sidecar,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; text: string; json: () => unknown }> {
  const response = await fetch(`${sidecar.url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    ...(init.body === undefined
      ? {}
      : { body: JSON.stringify(init.body), headers: { "content-type": "application/json" } }),
  });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

const save = (s: Sidecar, store: string, key: string, value: unknown) =>
  call(s, `/v1.0/state/${store}`, { body: [{ key, value }] });
const read = (s: Sidecar, store: string, key: string) => call(s, `/v1.0/state/${store}/${key}`);

describe("hot reload of components", () => {
  it("adds, updates and removes a component without a restart", async () => {
    const db = await tempDir();
    const { sidecar, dir } = await start({ "other.yaml": component("other", "state.in-memory") });
    const file = join(dir, "store.yaml");
    const sqlite = (name: string) =>
      component("store", "state.sqlite", { connectionString: join(db, name) });

    await writeFile(file, sqlite("a.db"));
    await waitUntil(
      async () => (await save(sidecar, "store", "k", "in a")).status === 204,
      WAIT_MS,
      "store added",
    );
    const meta = (await call(sidecar, "/v1.0/metadata")).json() as {
      components: { name: string; type: string }[];
    };
    expect(meta.components).toContainEqual(
      expect.objectContaining({ name: "store", type: "state.sqlite" }),
    );

    // Another database file: the key written to the first one is not there.
    await writeFile(file, sqlite("b.db"));
    await waitUntil(
      async () => (await read(sidecar, "store", "k")).status === 204,
      WAIT_MS,
      "store on b.db",
    );
    expect((await save(sidecar, "store", "k", "in b")).status).toBe(204);
    await writeFile(file, sqlite("a.db"));
    await waitUntil(
      async () => (await read(sidecar, "store", "k")).text === '"in a"',
      WAIT_MS,
      "store back on a.db",
    );

    await rm(file);
    await waitUntil(
      async () => (await read(sidecar, "store", "k")).status === 400,
      WAIT_MS,
      "store removed",
    );
    expect((await read(sidecar, "store", "k")).json()).toMatchObject({
      errorCode: "ERR_STATE_STORE_NOT_FOUND",
    });
    const after = (await call(sidecar, "/v1.0/metadata")).json() as {
      components: { name: string }[];
    };
    expect(after.components.map((c) => c.name)).toEqual(["other"]);
    expect((await save(sidecar, "other", "k", 1)).status).toBe(204);
  });

  it("honours scopes as at start: a component scoped away from the app is removed", async () => {
    const { sidecar, dir } = await start({ "other.yaml": component("other", "state.in-memory") });
    const scoped = (app: string) => `${component("store", "state.in-memory")}scopes: [${app}]\n`;
    await writeFile(join(dir, "store.yaml"), scoped("hot"));
    await waitUntil(
      async () => (await save(sidecar, "store", "k", 1)).status === 204,
      WAIT_MS,
      "in scope",
    );
    await writeFile(join(dir, "store.yaml"), scoped("someone-else"));
    await waitUntil(
      async () => (await read(sidecar, "store", "k")).status === 400,
      WAIT_MS,
      "scoped away",
    );
    expect((await read(sidecar, "store", "k")).json()).toMatchObject({
      errorCode: "ERR_STATE_STORE_NOT_FOUND",
    });
  });

  it("keeps the running component on a broken edit and names the file and field", async () => {
    const db = await tempDir();
    const good = component("store", "state.sqlite", { connectionString: join(db, "a.db") });
    const { sidecar, dir, log } = await start({ "store.yaml": good });
    const file = join(dir, "store.yaml");
    expect((await save(sidecar, "store", "k", "kept")).status).toBe(204);

    const broken = [
      { text: `${good}\n  bad: [`, names: "(yaml)" },
      {
        text: component("store", "state.sqlite", {
          connectionString: join(db, "b.db"),
          tableName: "not a name",
        }),
        names: "spec.metadata.tableName",
      },
      { text: component("store", "state.nope"), names: "spec.type" },
    ];
    for (const edit of broken) {
      const before = log.lines.length;
      await writeFile(file, edit.text);
      await waitUntil(
        () => log.lines.slice(before).some((l) => l.level === "error"),
        WAIT_MS,
        `error logged for ${edit.names}`,
      );
      const line = log.lines.slice(before).find((l) => l.level === "error") as Line;
      expect(line.message).toContain(file);
      expect(line.message).toContain(edit.names);
      expect((await read(sidecar, "store", "k")).text).toBe('"kept"');
    }
    // Fixed: the new spec applies.
    await writeFile(
      file,
      component("store", "state.sqlite", { connectionString: join(db, "b.db") }),
    );
    await waitUntil(
      async () => (await read(sidecar, "store", "k")).status === 204,
      WAIT_MS,
      "fixed edit applied",
    );
  });

  it("lets a delivery in flight on a replaced pubsub finish before closing it", async () => {
    const held: ServerResponse[] = [];
    const app = await fakeApp((r, res) => {
      if (r.url === "/dapr/subscribe") return res.end("[]");
      if (held.length === 0) return void held.push(res);
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"SUCCESS"}');
    });
    cleanups.push(() => app.close());
    const pubsub = (mode: string) =>
      component("pubsub", "pubsub.in-memory", { concurrencyMode: mode });
    const { sidecar, dir, log } = await start(
      {
        "pubsub.yaml": pubsub("parallel"),
        "orders.yaml": subscription("orders", "orders", "/orders"),
      },
      { appPort: app.port },
    );
    await sidecar.ready();
    const publish = (n: number) => call(sidecar, "/v1.0/publish/pubsub/orders", { body: { n } });
    const orders = () =>
      app.received.filter((r) => r.url === "/orders").map((r) => JSON.parse(r.body).data.n);

    expect((await publish(1)).status).toBe(204);
    await waitUntil(() => held.length === 1, WAIT_MS, "the first message reached the app");
    await writeFile(join(dir, "pubsub.yaml"), pubsub("single"));
    await waitUntil(() => log.has("component updated"), WAIT_MS, "pubsub updated");
    // The new instance delivers while the old one still waits for the app's answer.
    expect((await publish(2)).status).toBe(204);
    await waitUntil(() => orders().includes(2), WAIT_MS, "the second message delivered");
    expect(log.has("component closed")).toBe(false);

    (held[0] as ServerResponse)
      .writeHead(200, { "content-type": "application/json" })
      .end('{"status":"SUCCESS"}');
    await waitUntil(() => log.has("component closed"), WAIT_MS, "old pubsub closed");
    expect(orders()).toEqual([1, 2]);
  });

  it("warns by name about kinds that need a restart", async () => {
    const { dir, log } = await start({});
    // YAML's flow form (JSON) is a resource file too.
    const resiliency = { kind: "Resiliency", metadata: { name: "myresiliency" }, spec: {} };
    await writeFile(join(dir, "resiliency.yaml"), JSON.stringify(resiliency));
    await waitUntil(() => log.has("Resiliency myresiliency changed"), WAIT_MS, "restart warning");
    const line = log.lines.find((l) => l.message.includes("Resiliency myresiliency")) as Line;
    expect(line.level).toBe("warn");
    expect(line.message).toContain(join(dir, "resiliency.yaml"));
  });

  it("applies HTTPEndpoint edits to service invocation", async () => {
    const target = await fakeApp((r, res) => res.end(`at ${r.url}`));
    cleanups.push(() => target.close());
    const { sidecar, dir } = await start({});
    const file = join(dir, "billing.yaml");
    const endpoint = (path: string) =>
      JSON.stringify({
        apiVersion: "dapr.io/v1alpha1",
        kind: "HTTPEndpoint",
        metadata: { name: "billing" },
        spec: { baseUrl: `http://127.0.0.1:${target.port}${path}` },
      });
    const invoke = () => call(sidecar, "/v1.0/invoke/billing/method/pay");
    await writeFile(file, endpoint("/a"));
    await waitUntil(async () => (await invoke()).text === "at /a/pay", WAIT_MS, "endpoint added");
    await writeFile(file, endpoint("/b"));
    await waitUntil(async () => (await invoke()).text === "at /b/pay", WAIT_MS, "endpoint changed");
    await rm(file);
    await waitUntil(async () => (await invoke()).status !== 200, WAIT_MS, "endpoint removed");
    const meta = (await call(sidecar, "/v1.0/metadata")).json() as { httpEndpoints: unknown[] };
    expect(meta.httpEndpoints).toEqual([]);
  });

  it("is off when a Configuration disables the HotReload feature", async () => {
    const { sidecar, dir, log } = await start({
      "config.yaml": `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  features:
    - name: HotReload
      enabled: false
`,
    });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: "hot reload is off",
        fields: { by: "Configuration appconfig (features.HotReload)" },
      }),
    );
    await writeFile(join(dir, "store.yaml"), component("store", "state.in-memory"));
    // Well past the debounce: a watcher would have loaded it by now.
    await new Promise((r) => setTimeout(r, 500));
    expect((await read(sidecar, "store", "k")).json()).toMatchObject({
      errorCode: "ERR_STATE_STORE_NOT_CONFIGURED",
    });
  });
});

describe("hot reload of subscriptions", () => {
  it("starts and stops delivering as Subscription files come and go", async () => {
    const app = await fakeApp((r, res) => {
      if (r.url === "/dapr/subscribe") res.end("[]");
      else res.writeHead(200, { "content-type": "application/json" }).end('{"status":"SUCCESS"}');
    });
    cleanups.push(() => app.close());
    const { sidecar, dir } = await start(
      { "pubsub.yaml": component("pubsub", "pubsub.in-memory") },
      { appPort: app.port },
    );
    await sidecar.ready();
    const delivered = (path: string) => app.received.filter((r) => r.url === path);
    const publish = (topic: string, data: unknown) =>
      call(sidecar, `/v1.0/publish/pubsub/${topic}`, { body: data });
    const topics = async () =>
      (
        (await call(sidecar, "/v1.0/metadata")).json() as { subscriptions: { topic: string }[] }
      ).subscriptions.map((s) => s.topic);

    await writeFile(join(dir, "orders.yaml"), subscription("orders", "orders", "/orders"));
    await waitUntil(async () => (await topics()).includes("orders"), WAIT_MS, "orders subscribed");
    expect((await publish("orders", { n: 1 })).status).toBe(204);
    await waitUntil(() => delivered("/orders").length === 1, WAIT_MS, "first order delivered");

    await rm(join(dir, "orders.yaml"));
    await writeFile(join(dir, "later.yaml"), subscription("later", "later", "/later"));
    await waitUntil(
      async () => {
        const now = await topics();
        return now.includes("later") && !now.includes("orders");
      },
      WAIT_MS,
      "orders unsubscribed, later subscribed",
    );
    expect((await publish("orders", { n: 2 })).status).toBe(204);
    expect((await publish("later", { n: 3 })).status).toBe(204);
    // The later topic's message is the marker: the order published before it was not delivered.
    await waitUntil(() => delivered("/later").length === 1, WAIT_MS, "later delivered");
    expect(delivered("/orders")).toHaveLength(1);
  });
});

describe("hot reload under a streaming subscription (gRPC)", () => {
  it("moves the stream to the replaced pubsub and ends it when the pubsub is removed", async () => {
    const { sidecar, dir, log } = await start({
      "pubsub.yaml": component("pubsub", "pubsub.in-memory"),
    });
    const { dapr } = daprProtos();
    const client = new dapr.dapr.proto.runtime.v1.Dapr(
      `127.0.0.1:${sidecar.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    cleanups.push(async () => client.close());
    const stream = client.SubscribeTopicEventsAlpha1();
    const events: { id: string; data: Buffer }[] = [];
    let opened = false;
    let ended = false;
    stream.on(
      "data",
      (m: { initialResponse?: unknown; eventMessage?: { id: string; data: Buffer } }) => {
        if (m.initialResponse) opened = true;
        if (m.eventMessage) {
          events.push(m.eventMessage);
          stream.write({
            eventProcessed: { id: m.eventMessage.id, status: { status: "SUCCESS" } },
          });
        }
      },
    );
    stream.on("end", () => (ended = true));
    stream.on("error", () => (ended = true));
    stream.write({ initialRequest: { pubsubName: "pubsub", topic: "t", metadata: {} } });
    await waitUntil(() => opened, WAIT_MS, "stream opened");

    await writeFile(
      join(dir, "pubsub.yaml"),
      component("pubsub", "pubsub.in-memory", { concurrencyMode: "single" }),
    );
    await waitUntil(() => log.has("component closed"), WAIT_MS, "old pubsub closed");
    expect((await call(sidecar, "/v1.0/publish/pubsub/t", { body: { n: 1 } })).status).toBe(204);
    await waitUntil(() => events.length === 1, WAIT_MS, "event delivered on the new pubsub");

    await rm(join(dir, "pubsub.yaml"));
    await waitUntil(() => ended, WAIT_MS, "stream ended with its pubsub");
  });
});

describe("hot reload in library mode", () => {
  it("applies changes once a HotReloader watches the runtime", async () => {
    const dir = await tempDir();
    const runtime = await createRuntime({ appId: "lib", resourcesPaths: [dir] });
    const reloader = new HotReloader(runtime, { debounceMs: 20 });
    cleanups.push(async () => {
      await reloader.close();
      await runtime.close();
    });
    await reloader.watch();
    expect(runtime.has("state", "store")).toBe(false);
    await writeFile(join(dir, "store.yaml"), component("store", "state.in-memory"));
    await waitUntil(() => runtime.has("state", "store"), WAIT_MS, "store added");
    await runtime.stateStore("store").set({ key: "k", value: toBytes("v") });
    expect(
      utf8((await runtime.stateStore("store").get({ key: "k" })).data ?? new Uint8Array()),
    ).toBe("v");
  });
});
