import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from "@dapr/dapr";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";
import { afterEach, describe, expect, it } from "vitest";
import { CliProcess, runCli, tempHome } from "./helpers.ts";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const running: CliProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((cli) => cli.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function home(): Promise<string> {
  const { home, cleanup } = await tempHome();
  cleanups.push(cleanup);
  return home;
}

function start(args: string[], options: { home: string; cwd?: string }): CliProcess {
  const cli = new CliProcess(args, options);
  running.push(cli);
  return cli;
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("outrig run", { timeout: 60_000 }, () => {
  it("starts the app with Dapr's environment, prefixes its output and exits with its code", async () => {
    const outrigHome = await home();
    const cli = start(
      [
        "run",
        "--app-id",
        "envapp",
        "--app-port",
        "4999",
        "--",
        process.execPath,
        join(fixtures, "env-app.mjs"),
        "3",
      ],
      { home: outrigHome },
    );
    expect(await cli.exited, cli.output).toBe(3);
    const port = cli.output.match(/HTTP Port: (\d+)\. gRPC Port: (\d+)/);
    expect(port).not.toBeNull();
    const [, httpPort, grpcPort] = port as RegExpMatchArray;
    expect(cli.output).toContain("== APP == APP_ID=envapp");
    expect(cli.output).toContain("== APP == APP_PORT=4999");
    expect(cli.output).toContain(`== APP == DAPR_HTTP_PORT=${httpPort}`);
    expect(cli.output).toContain(`== APP == DAPR_GRPC_PORT=${grpcPort}`);
    expect(cli.output).toContain(`== APP == DAPR_HTTP_ENDPOINT=http://127.0.0.1:${httpPort}`);
    expect(cli.output).toContain("== APP == METADATA_ID=envapp");
    expect(cli.output).toContain("== APP == a line on stderr");
    expect(cli.output).toMatch(/== OUTRIG == .*level=info/);
    expect(cli.output).toContain("Exited App (envapp) with code 3");
    // The registry entry goes away with the process.
    expect(await readdir(join(outrigHome, "apps"))).toEqual([]);
  });

  it("runs a sidecar alone on the port given, serving the embedded defaults, until SIGINT", async () => {
    const outrigHome = await home();
    const port = await freePort();
    const cli = start(["run", "--app-id", "solo", "--dapr-http-port", String(port)], {
      home: outrigHome,
    });
    await cli.waitFor(/You're up and running/);
    expect(cli.output).toContain(`HTTP Port: ${port}`);
    expect(cli.output).toContain("embedded defaults, SQLite statestore and in-memory pubsub");
    const save = await fetch(`http://127.0.0.1:${port}/v1.0/state/statestore`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "k", value: { hello: "world" } }]),
    });
    expect(save.status).toBe(204);
    const read = await fetch(`http://127.0.0.1:${port}/v1.0/state/statestore/k`);
    expect(await read.json()).toEqual({ hello: "world" });
    expect(await cli.stop("SIGINT")).toBe(0);
  });

  it("refuses a port that is taken, naming the flag", async () => {
    const outrigHome = await home();
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const result = await runCli(["run", "--dapr-http-port", String(port)], { home: outrigHome });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`--dapr-http-port: port ${port} is not available`);
    } finally {
      server.close();
    }
  });

  it("refuses an app id that is already running", async () => {
    const outrigHome = await home();
    const first = start(["run", "--app-id", "twice"], { home: outrigHome });
    await first.waitFor(/You're up and running/);
    const second = await runCli(["run", "--app-id", "twice"], { home: outrigHome });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('app id "twice" is already running');
  });
});

describe("two apps of two outrig run commands, with the @dapr/dapr SDK", {
  timeout: 60_000,
}, () => {
  it("invoke each other by app id through the local registry; list and stop see them", async () => {
    const outrigHome = await home();
    const appPort = await freePort();
    const subscriber = start(
      [
        "run",
        "--app-id",
        "subscriber",
        "--app-port",
        String(appPort),
        "--",
        process.execPath,
        join(fixtures, "subscriber.mjs"),
      ],
      { home: outrigHome },
    );
    await subscriber.waitFor(/== APP == subscriber ready/);

    const list = await runCli(["list", "-o", "json"], { home: outrigHome });
    expect(list.code).toBe(0);
    const entries = JSON.parse(list.stdout);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      appId: "subscriber",
      appPort,
      cliPid: subscriber.child.pid,
    });
    expect(entries[0].appPid).toBeGreaterThan(0);
    const table = await runCli(["list"], { home: outrigHome });
    expect(table.stdout).toMatch(/^APP ID +HTTP PORT +GRPC PORT +APP PORT/);
    expect(table.stdout).toMatch(
      new RegExp(`subscriber +${entries[0].httpPort} +\\d+ +${appPort}`),
    );

    // The caller has no app port: a sidecar and a client only. Separate processes have separate
    // in-memory brokers, so this one only invokes.
    const caller = start(
      [
        "run",
        "--app-id",
        "caller",
        "--",
        process.execPath,
        join(fixtures, "publisher.mjs"),
        "subscriber",
        "no-publish",
      ],
      { home: outrigHome },
    );
    expect(await caller.exited, caller.output).toBe(0);
    const result = JSON.parse(
      (caller.output.match(/RESULT (.*)/) as RegExpMatchArray)[1] as string,
    );
    expect(result.seen).toMatchObject({ appId: "subscriber", received: [] });
    expect(result.doubled).toEqual({ doubled: 42, by: "subscriber" });

    const stop = await runCli(["stop", "--app-id", "subscriber"], { home: outrigHome });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain("app stopped successfully: subscriber");
    expect(await subscriber.exited, subscriber.output).toBe(0);
    const after = await runCli(["list", "-o", "json"], { home: outrigHome });
    expect(JSON.parse(after.stdout)).toEqual([]);
  });
});

describe("service invocation in both directions between two outrig run commands", {
  timeout: 60_000,
}, () => {
  it("each sidecar reaches the other app by id", async () => {
    const outrigHome = await home();
    const apps = await Promise.all(
      ["north", "south"].map(async (appId) => {
        const appPort = await freePort();
        const cli = start(
          [
            "run",
            "--app-id",
            appId,
            "--app-port",
            String(appPort),
            "--",
            process.execPath,
            join(fixtures, "subscriber.mjs"),
          ],
          { home: outrigHome },
        );
        const [, port] = await cli.waitFor(/HTTP Port: (\d+)/);
        await cli.waitFor(/== APP == subscriber ready/);
        return { appId, url: `http://127.0.0.1:${port}` };
      }),
    );
    const [north, south] = apps as [(typeof apps)[number], (typeof apps)[number]];
    for (const [from, to] of [
      [north, south],
      [south, north],
    ] as const) {
      const response = await fetch(`${from.url}/v1.0/invoke/${to.appId}/method/double`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: 4 }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ doubled: 8, by: to.appId });
    }
    // An id nobody registered fails like Dapr's invocation of an unknown app.
    const unknown = await fetch(`${north.url}/v1.0/invoke/nobody/method/double`, {
      method: "POST",
    });
    expect(unknown.status).toBe(500);
    expect(((await unknown.json()) as { errorCode: string }).errorCode).toBe("ERR_DIRECT_INVOKE");
  });
});

describe("invocation of a gRPC app between two outrig run commands", { timeout: 60_000 }, () => {
  it("an HTTP app's sidecar reaches the gRPC app by id, over HTTP and over gRPC", async () => {
    const outrigHome = await home();
    const [north, grpcApp] = await Promise.all(
      [
        { appId: "north", protocol: "http", fixture: "subscriber.mjs", ready: /subscriber ready/ },
        { appId: "grpcsvc", protocol: "grpc", fixture: "grpc-invokee.mjs", ready: /invokee ready/ },
      ].map(async (app) => {
        const cli = start(
          [
            "run",
            "--app-id",
            app.appId,
            "--app-port",
            String(await freePort()),
            "--app-protocol",
            app.protocol,
            "--",
            process.execPath,
            join(fixtures, app.fixture),
          ],
          { home: outrigHome },
        );
        const [, http, grpc] = await cli.waitFor(/HTTP Port: (\d+)\. gRPC Port: (\d+)/);
        await cli.waitFor(app.ready);
        return { url: `http://127.0.0.1:${http}`, grpcPort: Number(grpc) };
      }),
    );
    if (!north || !grpcApp) throw new Error("the apps did not start");
    const response = await fetch(`${north.url}/v1.0/invoke/grpcsvc/method/double`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ n: 4 }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ doubled: 8, by: "grpcsvc" });
    const client = new DaprClient({
      daprHost: "127.0.0.1",
      daprPort: String(north.grpcPort),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      logger: { level: LogLevel.Error },
    });
    try {
      expect(await client.invoker.invoke("grpcsvc", "double", HttpMethod.POST, { n: 5 })).toEqual({
        doubled: 10,
        by: "grpcsvc",
      });
    } finally {
      await client.stop().catch(() => undefined);
    }
  });
});

describe("gRPC proxying between two outrig run commands", { timeout: 60_000 }, () => {
  it("a plain grpc-js client on one sidecar reaches the other app's own service by dapr-app-id", async () => {
    const outrigHome = await home();
    const echo = start(
      [
        "run",
        "--app-id",
        "echosvc",
        "--app-port",
        String(await freePort()),
        "--app-protocol",
        "grpc",
        "--",
        process.execPath,
        join(fixtures, "grpc-echo.mjs"),
      ],
      { home: outrigHome },
    );
    await echo.waitFor(/grpc echo ready/);
    const caller = start(["run", "--app-id", "caller"], { home: outrigHome });
    const [, grpcPort] = await caller.waitFor(/gRPC Port: (\d+)/);
    await caller.waitFor(/You're up and running!/);
    const definition = loader.loadSync(join(fixtures, "echo.proto"));
    const { Echo } = (
      grpc.loadPackageDefinition(definition) as unknown as {
        outrig: { test: { echo: { v1: { Echo: grpc.ServiceClientConstructor } } } };
      }
    ).outrig.test.echo.v1;
    const client = new Echo(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      Say: (
        r: object,
        m: grpc.Metadata,
        cb: (e: Error | null, r?: { text: string }) => void,
      ) => void;
      Count: (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<{ text: string }>;
    };
    const metadata = new grpc.Metadata();
    metadata.set("dapr-app-id", "echosvc");
    try {
      const reply = await new Promise<{ text: string } | undefined>((resolve, reject) =>
        client.Say({ text: "hi" }, metadata, (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(reply?.text).toBe("echosvc said hi to caller");
      const counted: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.Count({ n: 3 }, metadata);
        stream.on("data", (m: { text: string }) => counted.push(m.text));
        stream.on("error", reject);
        stream.on("end", resolve);
      });
      expect(counted).toEqual(["0", "1", "2"]);
    } finally {
      client.close();
    }
  });
});

describe("stopping a run file while it starts", () => {
  it("--app-protocol grpc: the sidecar delivers to a gRPC app (the @dapr/dapr DaprServer in gRPC mode)", async () => {
    const outrigHome = await home();
    const appPort = await freePort();
    const cli = start(
      [
        "run",
        "--app-id",
        "grpcsub",
        "--app-port",
        String(appPort),
        "--app-protocol",
        "grpc",
        "--",
        process.execPath,
        join(fixtures, "grpc-subscriber.mjs"),
      ],
      { home: outrigHome },
    );
    const [, port] = await cli.waitFor(/HTTP Port: (\d+)/);
    await cli.waitFor(/You're up and running!/);
    expect(cli.output).toContain("== APP == grpc subscriber ready");
    const published = await fetch(`http://127.0.0.1:${port}/v1.0/publish/pubsub/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: 42 }),
    });
    expect(published.status).toBe(204);
    await cli.waitFor(/== APP == received order \{"id":42\}/);
    const meta = (await (await fetch(`http://127.0.0.1:${port}/v1.0/metadata`)).json()) as {
      appConnectionProperties: { protocol: string };
      subscriptions: { topic: string }[];
    };
    expect(meta.appConnectionProperties.protocol).toBe("grpc");
    expect(meta.subscriptions.map((s) => s.topic)).toEqual(["orders"]);
  });

  it("SIGTERM after the first app is up stops every app and sidecar, leaving nothing behind", async () => {
    const outrigHome = await home();
    const project = await home();
    const idle = JSON.stringify([process.execPath, "-e", "setInterval(() => {}, 1000)"]);
    const apps = ["one", "two", "three"]
      .map((id) => `  - appID: ${id}\n    appDirPath: .\n    command: ${idle}\n`)
      .join("");
    await writeFile(join(project, "outrig.yaml"), `version: 1\napps:\n${apps}`);
    const cli = start(["run", "-f", project], { home: outrigHome });
    // The first app's pid, from the registry (a run file's console has no appPID line, as in Dapr).
    const appPids: number[] = [];
    while (appPids.length === 0) {
      await new Promise((r) => setTimeout(r, 25));
      const record = await readFile(join(outrigHome, "apps", "one.json"), "utf8").catch(() => "{}");
      const { appPid } = JSON.parse(record) as { appPid?: number };
      if (appPid) appPids.push(appPid);
    }
    expect(await cli.stop("SIGTERM"), cli.output).toBe(0);
    for (const pid of appPids) {
      expect(() => process.kill(pid, 0), `app ${pid} outlived outrig`).toThrow();
    }
    expect(await readdir(join(outrigHome, "apps"))).toEqual([]);
  });
});

describe("outrig run -f (multi-app run file) with the @dapr/dapr SDK", { timeout: 60_000 }, () => {
  it("publishes, subscribes and invokes between the apps, writes log files, stops with -f", async () => {
    const outrigHome = await home();
    const project = await home();
    const subscriberPort = await freePort();
    const runFile = join(project, "dapr.yaml");
    await mkdir(join(project, "subscriber"));
    await writeFile(
      runFile,
      `version: 1
common:
  env:
    FROM_COMMON: "yes"
apps:
  - appID: subscriber
    appDirPath: ./subscriber
    appPort: ${subscriberPort}
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(fixtures, "subscriber.mjs"))}]
    daprdLogDestination: fileAndConsole
  - appID: publisher
    appDirPath: ${JSON.stringify(project)}
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(fixtures, "publisher.mjs"))}, subscriber]
    appLogDestination: file
  - appID: standby
    appDirPath: ./subscriber
`,
    );
    const cli = start(["run", "-f", project], { home: outrigHome });
    await cli.waitFor(/== APP - subscriber == received order \{"orderId":"order-\d+"\}/, 30_000);
    expect(cli.output).toMatch(/== OUTRIG - subscriber == .*level=info/);
    // The publisher logs only to its file; it exits after its round trip, the subscriber stays.
    await cli.waitFor(/Exited App \(publisher\) with code 0/, 30_000);
    expect(cli.output).not.toContain("== APP - publisher ==");
    const logs = join(project, ".outrig", "logs");
    const publisherLog = (await readdir(logs)).find((f) => /^publisher_app_\d{14}\.log$/.test(f));
    expect(publisherLog).toBeDefined();
    const result = JSON.parse(
      (
        (await readFile(join(logs, publisherLog as string), "utf8")).match(
          /RESULT (.*)/,
        ) as RegExpMatchArray
      )[1] as string,
    );
    expect(result.seen.received).toContainEqual(result.order);
    expect(result.doubled).toEqual({ doubled: 42, by: "subscriber" });
    const subscriberLogs = await readdir(join(project, "subscriber", ".outrig", "logs"));
    expect(subscriberLogs.some((f) => /^subscriber_outrig_\d{14}\.log$/.test(f))).toBe(true);

    // Stopping one app of the run file leaves the others running.
    const stopOne = await runCli(["stop", "--app-id", "standby"], { home: outrigHome });
    expect(stopOne.code).toBe(0);
    const left = JSON.parse((await runCli(["list", "-o", "json"], { home: outrigHome })).stdout);
    expect(left.map((entry: { appId: string }) => entry.appId)).toEqual(["subscriber"]);
    expect(left[0].runTemplatePath).toBe(runFile);
    expect(cli.child.exitCode).toBeNull();

    const stop = await runCli(["stop", "-f", runFile], { home: outrigHome });
    expect(stop.code).toBe(0);
    expect(await cli.exited, cli.output).toBe(0);
    expect(JSON.parse((await runCli(["list", "-o", "json"], { home: outrigHome })).stdout)).toEqual(
      [],
    );
  });
});
