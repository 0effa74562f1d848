import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { startRedis, useService } from "@outrig/conformance/services";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../src/ports.ts";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

// Dapr's configuration, conversation, workflow, jobs and actors quickstarts with `outrig run`, in
// the shapes their JavaScript apps use: an unmodified @dapr/dapr client (configuration, gRPC)
// against a real Redis, plain fetch (conversation, HTTP) against conversation.echo, the @dapr/dapr
// workflow SDK (gRPC), the Jobs API over HTTP, and the SDK's actors hosted by one app and driven
// by another, on the components `outrig init` writes.
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const redis = useService(() => startRedis());

/** `SET key value` over RESP, as the quickstart's `redis-cli MSET` does, without a client library. */
function redisSet(key: string, value: string): Promise<void> {
  const arg = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: redis().host, port: redis().port });
    socket.setTimeout(5000, () => socket.destroy(new Error("redis did not answer SET in 5 s")));
    socket.once("error", reject);
    socket.once("data", (reply) => {
      socket.end();
      if (reply.toString().startsWith("+OK")) resolve();
      else reject(new Error(`redis answered ${reply.toString().trim()}`));
    });
    socket.write(`*3\r\n${arg("SET")}${arg(key)}${arg(value)}`);
  });
}

async function resourcesWith(yaml: string): Promise<{ home: string; resources: string }> {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  const resources = join(home, "components");
  await mkdir(resources, { recursive: true });
  await writeFile(join(resources, "component.yaml"), yaml);
  return { home, resources };
}

function result(cli: CliProcess): unknown {
  const line = cli.output.match(/== APP == RESULT (.*)/);
  expect(line, cli.output).not.toBeNull();
  return JSON.parse((line as RegExpMatchArray)[1] as string);
}

describe("Dapr's quickstarts through outrig run", { timeout: 90_000 }, () => {
  it("configuration: the app reads orderId1/orderId2 from Redis and sees an update", async () => {
    const prefix = `q${Date.now()}`;
    await redisSet(`${prefix}orderId1`, "101||1");
    await redisSet(`${prefix}orderId2`, "102||1");
    const { home, resources } = await resourcesWith(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: configstore
spec:
  type: configuration.redis
  version: v1
  metadata:
    - name: redisHost
      value: ${redis().host}:${redis().port}
`);
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "order-processor",
        "--resources-path",
        resources,
        "--",
        process.execPath,
        join(fixtures, "configuration-app.mjs"),
        prefix,
      ],
      { home, cwd: fixtures },
    );
    running.push(cli);
    await cli.waitFor(/SUBSCRIBED/, 60_000);
    // The SDK resolves subscribeWithKeys when the stream opens, which can be before the sidecar's
    // own SUBSCRIBE on Redis is in; as a user who changes the value later would, the update is
    // written again until the app has seen it (same value and version, so the result is one).
    const update = () => redisSet(`${prefix}orderId1`, "103||2");
    await update();
    const again = setInterval(() => void update().catch(() => undefined), 500);
    try {
      expect(await cli.exited, cli.output).toBe(0);
    } finally {
      clearInterval(again);
    }
    expect(result(cli)).toEqual({
      got: { [`${prefix}orderId1`]: "101", [`${prefix}orderId2`]: "102" },
      updated: { key: `${prefix}orderId1`, value: "103", version: "2" },
    });
  });

  it("conversation: the app's question is answered by conversation.echo over HTTP", async () => {
    const { home, resources } = await resourcesWith(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: echo
spec:
  type: conversation.echo
  version: v1
`);
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "conversation",
        "--resources-path",
        resources,
        "--",
        process.execPath,
        join(fixtures, "conversation-app.mjs"),
      ],
      { home, cwd: fixtures },
    );
    running.push(cli);
    expect(await cli.exited, cli.output).toBe(0);
    expect(cli.output).toContain("Output response: What is dapr?");
    // The tool-calling step: outrig's echo calls a tool only when the message names it (or
    // toolChoice does), so the quickstart's weather question comes back as text, not a tool call.
    expect(result(cli)).toEqual({
      answer: "What is dapr?",
      finishReason: "stop",
      toolCalls: [],
      content: "What is the weather like in San Francisco in celsius?",
    });
  });

  it("workflow: the SDK's task chain of three activities runs on the SQLite default from outrig init", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const init = await runCli(["init"], { home });
    expect(init.code, init.stderr).toBe(0);
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "order-processor",
        "--",
        process.execPath,
        join(fixtures, "workflow-app.mjs"),
      ],
      { home, cwd: fixtures },
    );
    running.push(cli);
    expect(await cli.exited, cli.output).toBe(0);
    const run = result(cli) as { instanceId: string };
    expect(run).toEqual({
      instanceId: expect.any(String),
      name: "chainingWorkflow",
      status: "COMPLETED",
      output: "This is task chaining",
    });
    expect(cli.output).toContain("step3: received input: This is task");
    // The instance's history is in init's SQLite statestore (the actorStateStore), in Dapr's
    // key layout, and outlives the run: nothing was kept in memory only.
    const db = new DatabaseSync(join(home, "state.db"), { readOnly: true });
    try {
      const keys = db
        .prepare("SELECT key FROM state WHERE key LIKE ? ORDER BY key")
        .all(
          `order-processor||dapr.internal.default.order-processor.workflow||${run.instanceId}||%`,
        )
        .map((row) => String(row.key).split("||").at(-1));
      expect(keys).toContain("metadata");
      expect(keys.filter((k) => k?.startsWith("history-")).length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it("actors: a client app drives SmartDevice actors another app hosts, through its own sidecar; state and a reminder land in init's statestore", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const init = await runCli(["init"], { home });
    expect(init.code, init.stderr).toBe(0);
    const appPort = await freePort();
    const service = new CliProcess(
      [
        "run",
        "--app-id",
        "smart-device-service",
        "--app-port",
        String(appPort),
        "--",
        process.execPath,
        join(fixtures, "actor-service.mjs"),
      ],
      { home, cwd: fixtures },
    );
    running.push(service);
    await service.waitFor(/smart device service started/, 30_000);
    const client = new CliProcess(
      [
        "run",
        "--app-id",
        "smart-device-client",
        "--",
        process.execPath,
        join(fixtures, "actor-client.mjs"),
      ],
      { home, cwd: fixtures },
    );
    running.push(client);
    expect(await client.exited, client.output).toBe(0);
    expect(result(client)).toEqual({
      read: [1, 2, 3].map((i) => ({
        data: { status: "ready", location: `room-${i}` },
        alarm: i === 2 ? "smoke detected" : null,
      })),
      alarm: "smoke detected",
    });
    // The reminder fired on the hosting app, and the state is the host's, in Dapr's key layout.
    expect(service.output).toContain('reminder fired on 2: "smoke detected"');
    const db = new DatabaseSync(join(home, "state.db"), { readOnly: true });
    try {
      const keys = db
        .prepare("SELECT key FROM state WHERE key LIKE ? ORDER BY key")
        .all("%||SmartDevice||%")
        .map((row) => String(row.key));
      expect(keys).toEqual(
        expect.arrayContaining([
          "smart-device-service||SmartDevice||1||device_data",
          "smart-device-service||SmartDevice||2||alarm",
          "smart-device-service||SmartDevice||2||device_data",
          "smart-device-service||SmartDevice||3||device_data",
        ]),
      );
      expect(keys.some((k) => k.startsWith("smart-device-client||"))).toBe(false);
    } finally {
      db.close();
    }
  });

  it("jobs: two jobs scheduled over HTTP with a dueTime trigger the app once each, with their data, never early", async () => {
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const appPort = await freePort();
    const cli = new CliProcess(
      [
        "run",
        "--app-id",
        "job-service",
        "--app-port",
        String(appPort),
        "--",
        process.execPath,
        join(fixtures, "jobs-app.mjs"),
      ],
      { home, cwd: fixtures },
    );
    running.push(cli);
    expect(await cli.exited, cli.output).toBe(0);
    const run = result(cli) as {
      scheduledAt: Record<string, number>;
      details: Record<string, unknown>;
      triggers: Record<string, { at: number; data: unknown }[]>;
    };
    const due = { "R2-D2": 2000, "C-3PO": 3000 };
    const data = { "R2-D2": "R2-D2:Oil Change", "C-3PO": "C-3PO:Limb Calibration" };
    for (const name of ["R2-D2", "C-3PO"] as const) {
      expect(run.details[name]).toMatchObject({ name, data: { value: data[name] } });
      const fired = run.triggers[name];
      expect(fired, name).toHaveLength(1);
      expect(fired?.[0]?.data).toEqual({ value: data[name] });
      expect(fired?.[0]?.at, `${name} fired before its dueTime`).toBeGreaterThanOrEqual(
        (run.scheduledAt[name] as number) + due[name],
      );
    }
    expect(cli.output).toContain("Executing maintenance job: Limb Calibration");
  });
});
