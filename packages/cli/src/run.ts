import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import {
  type ComponentRegistry,
  createRegistry,
  type Sidecar,
  startSidecar,
} from "@outrig/runtime";
import { manifest as sqliteManifest } from "@outrig/sqlite";
import { type AppProcess, startAppProcess } from "./app-process.ts";
import { componentSearchPath, installHint } from "./components.ts";
import { embeddedDefaultResources } from "./default-resources.ts";
import { CliError } from "./errors.ts";
import { LogOutput } from "./log-output.ts";
import { outrigHome, outrigPaths } from "./paths.ts";
import { assertPortFree } from "./ports.ts";
import { type AppRecord, type AppRegistry, processStartTicks } from "./registry.ts";
import type { AppRunConfig } from "./run-config.ts";
import { sharedMemoryManifest } from "./shared-memory-pubsub.ts";
import { createSidecarLogger } from "./sidecar-logger.ts";
import type { StatusLines } from "./status.ts";
import { cliVersion } from "./version.ts";

export interface RunningApp {
  readonly appId: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly record: AppRecord;
  /** True when there is an app process, false for a sidecar alone. */
  readonly hasApp: boolean;
  /**
   * Resolves when this app is finished by itself: the app process exited (its code), or the app
   * asked its sidecar to shut down (`POST /v1.0/shutdown`, code 0).
   */
  readonly done: Promise<number>;
  /** Stops the app (if any), then the sidecar; resolves with the app's exit code. */
  stop(): Promise<number | undefined>;
}

export interface LaunchContext {
  registry: AppRegistry;
  /** Lines the CLI itself prints (ports, readiness), unprefixed like dapr's. */
  status: StatusLines;
  /** `single`: `outrig run [-- cmd]`; `runFile`: one app of `outrig run -f`. Dapr prints differently. */
  mode: "single" | "runFile";
  inheritStdin: boolean;
}

/** How often an app that does not listen yet is reported as awaited. */
const WAITING_REPORT_MS = 5_000;

/**
 * The embedded defaults come with the CLI so they load wherever it runs; any other component
 * package is found by the runtime from the app's directory or its own dependencies.
 */
function componentRegistry(config: AppRunConfig): ComponentRegistry {
  return createRegistry({
    manifests: [sharedMemoryManifest, sqliteManifest],
    resolveFrom: componentSearchPath({
      appDir: config.cwd,
      resourcesPaths: config.resources.paths,
      componentsDir: outrigPaths().components,
    }),
    installHint,
  });
}

/**
 * Starts one app the way `dapr run` does: the sidecar first (in this process), then the app
 * with Dapr's environment variables, registered in the local registry so other apps can invoke
 * it by id.
 */
export async function launchApp(config: AppRunConfig, context: LaunchContext): Promise<RunningApp> {
  const { registry } = context;
  if (config.httpPort !== undefined) await assertPortFree(config.httpPort, "--dapr-http-port");
  if (config.grpcPort !== undefined) await assertPortFree(config.grpcPort, "--dapr-grpc-port");
  if (config.metricsPort !== undefined) await assertPortFree(config.metricsPort, "--metrics-port");
  // 0: the sidecar's gRPC API takes a free port, recorded once it listens (as the HTTP port).
  let grpcPort = config.grpcPort ?? 0;
  // Claimed before the sidecar starts, so a second `outrig run` with the same id fails at once;
  // the real HTTP port is filled in once the sidecar listens (port 0: the OS picks a free one).
  let httpPort = config.httpPort ?? 0;

  const record: AppRecord = {
    appId: config.appId,
    httpPort,
    grpcPort,
    appPort: config.appPort,
    appHost: config.appHost,
    appProtocol: config.appProtocol,
    cliPid: process.pid,
    cliStartTicks: processStartTicks(process.pid),
    command: config.command,
    startedAt: new Date().toISOString(),
    runFile: config.runFile,
    appLogPath: config.appLog.destination === "console" ? undefined : config.appLog.filePath,
    sidecarLogPath:
      config.sidecarLog.destination === "console" ? undefined : config.sidecarLog.filePath,
  };
  await registry.register(record);
  // A crash of outrig must not leave an entry that points at ports nobody serves.
  const removeOnExit = () => registry.unregisterSync(config.appId);
  process.once("exit", removeOnExit);

  const sidecarOutput = new LogOutput({
    prefix: config.labels.sidecar,
    colour: config.colours.sidecar,
    destination: config.sidecarLog.destination,
    filePath: config.sidecarLog.filePath,
  });
  const appOutput = new LogOutput({
    prefix: config.labels.app,
    colour: config.colours.app,
    destination: config.appLog.destination,
    filePath: config.appLog.filePath,
  });

  const { status } = context;
  if (config.resources.embedded) {
    status.info(
      "No components directory found: using the embedded defaults, SQLite statestore and in-memory pubsub (`outrig init` writes them as editable files)",
    );
  }

  let shutdownRequested: () => void = () => {};
  const shutdown = new Promise<number>((resolveShutdown) => {
    shutdownRequested = () => resolveShutdown(0);
  });
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar({
      appId: config.appId,
      appPort: config.appPort,
      appHost: config.appHost,
      appProtocol: config.appProtocol,
      httpPort,
      grpcPort,
      // As the dapr CLI: a free port unless given, so several apps never contend for 9090.
      metricsPort: config.metricsPort ?? 0,
      enableMetrics: config.enableMetrics ?? true,
      // The runtime reads Configuration documents from its resources, so the config file is one.
      resourcesPaths: [
        ...config.resources.paths,
        ...(config.configFile ? [config.configFile] : []),
      ],
      resources: config.resources.embedded
        ? embeddedDefaultResources(await embeddedStateDatabase())
        : undefined,
      registry: componentRegistry(config),
      onShutdown: () => shutdownRequested(),
      appMaxConcurrency: config.appMaxConcurrency,
      appHealthCheckPath: config.appHealthCheckPath,
      enableAppHealthCheck: config.enableAppHealthCheck,
      appHealthProbeInterval: config.appHealthProbeInterval,
      appHealthProbeTimeout: config.appHealthProbeTimeout,
      appHealthThreshold: config.appHealthThreshold,
      maxBodySize: config.maxBodySize,
      gracefulShutdownSeconds: config.gracefulShutdownSeconds,
      // Every `outrig run` on this machine shares $OUTRIG_HOME/scheduler.db, so the sidecars
      // place actors together there, as Dapr's placement service does: an app reaches actors
      // another app hosts through its own sidecar. OUTRIG_ACTOR_PLACEMENT=local opts out.
      actorPlacement: process.env.OUTRIG_ACTOR_PLACEMENT === undefined ? "table" : undefined,
      // One sidecar per app id runs under an outrig home (a second `outrig run` of it is
      // refused), so a restart after a crash takes back its jobs', reminders' and workflows'
      // leases at once instead of after the 30 s lease.
      schedulerOwner: `${hostname()}:${outrigHome()}/${config.appId}`,
      host: config.listenAddress,
      enableApiLogging: config.enableApiLogging,
      logLevel: config.logLevel,
      logger: createSidecarLogger(sidecarOutput, config.appId, config.logLevel, config.logFormat),
      resolveApp: async (appId) => {
        const target = await registry.get(appId);
        if (!target?.appPort) return undefined;
        return {
          host: target.appHost,
          port: target.appPort,
          protocol: target.appProtocol ?? "http",
          // Sidecars of the local registry run on this machine.
          sidecar: { host: "127.0.0.1", grpcPort: target.grpcPort },
        };
      },
      extendedMetadata: {
        appCommand: config.command.join(" "),
        cliPID: String(process.pid),
        ...(config.runFile ? { runTemplatePath: config.runFile } : {}),
        ...(record.appLogPath ? { appLogPath: record.appLogPath } : {}),
        ...(record.sidecarLogPath ? { daprdLogPath: record.sidecarLogPath } : {}),
        outrigCliVersion: cliVersion,
      },
    });
  } catch (error) {
    await registry.unregister(config.appId);
    process.off("exit", removeOnExit);
    await sidecarOutput.end();
    await appOutput.end();
    throw new CliError(`${config.appId}: the sidecar failed to start: ${(error as Error).message}`);
  }
  httpPort = sidecar.httpPort;
  record.httpPort = httpPort;
  grpcPort = sidecar.grpcPort;
  record.grpcPort = grpcPort;
  record.apiHost = apiHost(config.listenAddress);
  record.metricsPort = sidecar.metricsPort;
  await registry.write(record);
  // The dapr CLI's lines, word for word (cmd/run.go): tools wait for them.
  if (context.mode === "single") {
    status.info(
      `Starting Dapr with id ${config.appId}. HTTP Port: ${httpPort}. gRPC Port: ${grpcPort}`,
    );
  } else {
    status.info(
      `Started Dapr with app id ${JSON.stringify(config.appId)}. HTTP Port: ${httpPort}. gRPC Port: ${grpcPort}`,
    );
    const logFile = config.appLog.filePath ?? config.sidecarLog.filePath;
    if (logFile) status.info(`Writing log files to directory : ${dirname(logFile)}`);
  }

  let app: AppProcess | undefined;
  if (config.command.length > 0) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      APP_ID: config.appId,
      APP_PROTOCOL: config.appProtocol,
      APP_CHANNEL_ADDRESS: config.appHost,
      DAPR_HTTP_PORT: String(httpPort),
      DAPR_GRPC_PORT: String(grpcPort),
      DAPR_HTTP_ENDPOINT: `http://${apiHost(config.listenAddress)}:${httpPort}`,
      ...(config.appPort ? { APP_PORT: String(config.appPort) } : {}),
      ...config.env,
    };
    app = startAppProcess({
      command: config.command,
      cwd: config.cwd,
      env,
      output: appOutput,
      inheritStdin: context.inheritStdin,
    });
    if (app.pid !== undefined) {
      record.appPid = app.pid;
      await registry.write(record);
      if (context.mode === "single") {
        status.info(`Updating metadata for appPID: ${app.pid}`);
        status.info(`Updating metadata for app command: ${config.command.join(" ")}`);
      }
      void fetch(`${sidecar.url}/v1.0/metadata/appPID`, {
        method: "PUT",
        headers: { "content-type": "text/plain" },
        body: String(app.pid),
      }).catch(() => {});
    }
  }

  // An app that never listens must not be waited for in silence.
  const waiting =
    app && config.appPort
      ? setInterval(
          () =>
            status.info(
              `${config.appId}: waiting for the app to listen on port ${config.appPort} (${config.appHost})`,
            ),
          WAITING_REPORT_MS,
        )
      : undefined;
  void app?.exited.then(() => clearInterval(waiting));
  const ready = sidecar.ready().then(
    () => {
      clearInterval(waiting);
      const line = app
        ? "You're up and running! Both Dapr and your app logs will appear here.\n"
        : "You're up and running! Dapr logs will appear here.\n";
      // In a run file, Dapr writes this line to the app's daprd log, not the console.
      if (context.mode === "single") status.success(line);
      else sidecarOutput.line(line.trimEnd());
    },
    (error: Error) => {
      clearInterval(waiting);
      status.warning(`${config.appId}: sidecar not ready: ${error.message}`);
    },
  );

  let stopping: Promise<number | undefined> | undefined;
  return {
    appId: config.appId,
    httpPort,
    grpcPort,
    record,
    hasApp: app !== undefined,
    done: app ? Promise.race([app.exited, shutdown]) : shutdown,
    stop() {
      stopping ??= (async () => {
        clearInterval(waiting);
        // As the dapr CLI: the sidecar first, so its drain can finish the calls and deliveries
        // still in flight to a live app; then the app.
        await sidecar.stop().catch(() => {});
        const code = app ? await app.stop() : undefined;
        void ready;
        await registry.unregister(config.appId);
        process.off("exit", removeOnExit);
        await appOutput.end();
        await sidecarOutput.end();
        return code;
      })();
      return stopping;
    },
  };
}

/** The address the app reaches its sidecar on: loopback unless the API listens on one address. */
function apiHost(listen: string | undefined): string {
  if (!listen || listen === "0.0.0.0" || listen === "::" || listen === "localhost")
    return "127.0.0.1";
  return listen.includes(":") ? `[${listen}]` : listen;
}

/** The embedded statestore's file, under OUTRIG_HOME (created on first use). */
async function embeddedStateDatabase(): Promise<string> {
  const file = outrigPaths().stateDatabase;
  await mkdir(dirname(file), { recursive: true });
  return file;
}
