import { resolve } from "node:path";
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DAPR_RUN_FLAGS, type DaprFlag } from "./dapr-flags.ts";
import { CliError } from "./errors.ts";
import { initOutrig } from "./init.ts";
import { formatTable, toListEntry } from "./list.ts";
import { outrigPaths } from "./paths.ts";
import { AppRegistry, validateAppId } from "./registry.ts";
import type { RunningApp } from "./run.ts";
import { type AppRunConfig, selectConfigFile, selectResources } from "./run-config.ts";
import type { LogLevel } from "./sidecar-logger.ts";
import { consoleStatus, useJsonStatus } from "./status.ts";
import { findAppsToStop, stopApps } from "./stop.ts";
import { superviseApps } from "./supervise.ts";
import { cliVersion } from "./version.ts";

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError("Must be a port number from 1 to 65535.");
  }
  return port;
}

/** A port to listen on: 0 lets the OS pick a free one. */
function parseListenPort(value: string): number {
  return value === "0" ? 0 : parsePort(value);
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("Must be an integer.");
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const { info, success } = consoleStatus;

function randomAppId(): string {
  return `app-${Math.random().toString(36).slice(2, 8)}`;
}

interface RunFlags {
  appId?: string;
  appPort?: number;
  daprHttpPort?: number;
  daprGrpcPort?: number;
  metricsPort?: number;
  enableMetrics?: boolean;
  resourcesPath?: string[];
  componentsPath?: string[];
  config?: string;
  appProtocol: "http" | "grpc";
  appChannelAddress: string;
  logLevel: LogLevel | "fatal" | "panic";
  enableApiLogging?: boolean;
  appMaxConcurrency?: number;
  appHealthCheckPath?: string;
  enableAppHealthCheck?: boolean;
  appHealthProbeInterval?: number;
  appHealthProbeTimeout?: number;
  appHealthThreshold?: number;
  runFile?: string;
  maxBodySize?: string;
  daprHttpMaxRequestSize?: number;
  daprGracefulShutdownSeconds?: number;
  daprListenAddresses?: string;
  logAsJson?: boolean;
}

/** `max-body-size` -> `maxBodySize`, as commander names option values. */
function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Flags given on the command line that outrig does not honour: each one warned about or refused
 * by name (the table in dapr-flags.ts decides), never dropped in silence.
 */
function checkUnsupportedFlags(given: (flag: DaprFlag) => boolean): void {
  for (const flag of DAPR_RUN_FLAGS) {
    if (flag.support === "honoured" || !given(flag)) continue;
    const message = `--${flag.name}: ${flag.note}`;
    if (flag.support === "refuse") throw new CliError(message);
    consoleStatus.warning(`${message}; ignored`);
  }
}

/** Dapr's rule: with --run-file, the other flags are ignored (warned) and belong in the file. */
const RUN_FILE_COMPATIBLE = new Set(["run-file", "log-as-json", "runtime-path", "log-level"]);

function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("Must be a whole number.");
  return n;
}

async function runApps(apps: AppRunConfig[], mode: "single" | "runFile"): Promise<number> {
  // Loaded on demand: init, list and stop never need the sidecar's HTTP stack.
  const { launchApp } = await import("./run.ts");
  const registry = new AppRegistry(outrigPaths().apps);
  const running: RunningApp[] = [];
  // A Ctrl-C while apps are still starting must stop the ones already up, not orphan them.
  let interrupted: NodeJS.Signals | undefined;
  const onEarlySignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, onEarlySignal);
  try {
    for (const app of apps) {
      if (interrupted) break;
      if (mode === "runFile")
        info(`Validating config and starting app ${JSON.stringify(app.appId)}`);
      running.push(
        await launchApp(app, {
          registry,
          status: consoleStatus,
          mode,
          inheritStdin: mode === "single",
        }),
      );
    }
  } catch (error) {
    await Promise.all(running.map((app) => app.stop()));
    throw error;
  } finally {
    for (const signal of signals) process.off(signal, onEarlySignal);
  }
  if (interrupted) {
    info(`Received ${interrupted} while starting: stopping`);
    await Promise.all(running.map((app) => app.stop()));
    return 0;
  }
  const code = await superviseApps(running, { status: consoleStatus, mode, signals });
  if (code === 0) success("Exited outrig successfully");
  else info(`Exited outrig with the app's exit code ${code}`);
  return code;
}

async function runCommand(
  command: string[],
  flags: RunFlags,
  source: (name: string) => string | undefined,
): Promise<number> {
  const paths = outrigPaths();
  const given = (flag: DaprFlag) => source(camel(flag.name)) === "cli";
  const logFormat = flags.logAsJson ? "json" : "text";
  if (flags.logAsJson) await useJsonStatus();
  if (flags.runFile) {
    if (command.length > 0) {
      throw new CliError("--run-file: an app command cannot be combined with a run file");
    }
    const ignored = DAPR_RUN_FLAGS.filter((f) => given(f) && !RUN_FILE_COMPATIBLE.has(f.name));
    if (ignored.length > 0) {
      consoleStatus.warning(
        `The following flags are ignored when using --run-file and should be configured in the run file instead: ${ignored.map((f) => f.name).join(", ")}`,
      );
    }
    checkUnsupportedFlags((f) => given(f) && RUN_FILE_COMPATIBLE.has(f.name));
    const { loadRunFile } = await import("./run-file.ts");
    const runFile = await loadRunFile(flags.runFile, paths);
    for (const warning of runFile.warnings) info(`${runFile.path}: ${warning}`);
    return runApps(
      runFile.apps.map((app) => ({ ...app, logFormat })),
      "runFile",
    );
  }
  checkUnsupportedFlags(given);
  const listen = flags.daprListenAddresses
    ?.split(",")
    .map((a) => a.trim())
    .filter(Boolean);
  if (listen && listen.length > 1) {
    throw new CliError(
      `--dapr-listen-addresses: one address is supported yet, got ${listen.join(", ")}`,
    );
  }
  // The runtime is loaded only by `run`, so parse its quantities here rather than as commander does.
  const { megabytesToBytes, parseQuantity } = await import("@outrig/runtime");
  let maxBodySize: number | undefined;
  try {
    if (flags.maxBodySize !== undefined) maxBodySize = parseQuantity(flags.maxBodySize);
  } catch (error) {
    throw new CliError(`--max-body-size: ${(error as Error).message}`);
  }
  if (maxBodySize === undefined && flags.daprHttpMaxRequestSize !== undefined) {
    maxBodySize = megabytesToBytes(flags.daprHttpMaxRequestSize);
  }
  const appId = validateAppId(flags.appId ?? randomAppId());
  const explicitResources = [...(flags.resourcesPath ?? []), ...(flags.componentsPath ?? [])].map(
    (dir) => resolve(dir),
  );
  const resources = await selectResources(explicitResources, paths, "--resources-path");
  const configFile = await selectConfigFile(
    flags.config ? resolve(flags.config) : undefined,
    paths,
    "--config",
  );
  const logLevel: LogLevel =
    flags.logLevel === "fatal" || flags.logLevel === "panic" ? "error" : flags.logLevel;
  return runApps(
    [
      {
        appId,
        appPort: flags.appPort,
        appHost: flags.appChannelAddress,
        httpPort: flags.daprHttpPort,
        grpcPort: flags.daprGrpcPort,
        metricsPort: flags.metricsPort,
        enableMetrics: flags.enableMetrics,
        appProtocol: flags.appProtocol,
        resources,
        configFile,
        logLevel,
        logFormat,
        enableApiLogging: flags.enableApiLogging ?? false,
        appMaxConcurrency:
          flags.appMaxConcurrency !== undefined && flags.appMaxConcurrency > 0
            ? flags.appMaxConcurrency
            : undefined,
        appHealthCheckPath: flags.appHealthCheckPath,
        enableAppHealthCheck: flags.enableAppHealthCheck ?? false,
        appHealthProbeInterval: flags.appHealthProbeInterval,
        appHealthProbeTimeout: flags.appHealthProbeTimeout,
        appHealthThreshold: flags.appHealthThreshold,
        maxBodySize,
        gracefulShutdownSeconds: flags.daprGracefulShutdownSeconds,
        listenAddress: listen?.[0],
        command,
        cwd: process.cwd(),
        env: {},
        appLog: { destination: "console" },
        sidecarLog: { destination: "console" },
        labels: { app: "== APP ==", sidecar: "== OUTRIG ==" },
        colours: { app: "green", sidecar: "cyan" },
      },
    ],
    "single",
  );
}

/** Builds the `outrig` command tree; `onExit` receives the exit code of a finished action. */
export function createProgram(onExit: (code: number) => void): Command {
  const program = new Command("outrig")
    .description(
      "Run Dapr-compatible sidecars for local apps: no Docker, embedded SQLite state and in-memory pub/sub",
    )
    .version(cliVersion, "-v, --version", "print the outrig version")
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `\nEnvironment:\n  OUTRIG_HOME             where components, config and the app registry live (default ~/.outrig)\n  OUTRIG_COMPONENTS_PATH  more folders to resolve component packages from (":"-separated)`,
    );

  program
    .command("init")
    .description(
      "write the default components (SQLite statestore, in-memory pubsub) and config under ~/.outrig",
    )
    .option("--force", "rewrite files that already exist")
    .action(async (flags: { force?: boolean }) => {
      const result = await initOutrig(outrigPaths(), flags.force ?? false);
      for (const file of result.files) {
        if (file.status === "exists") info(`${file.path} already exists (use --force to rewrite)`);
        else success(`${file.status === "created" ? "Created" : "Rewrote"} ${file.path}`);
      }
      success("outrig is initialized. Run an app with: outrig run --app-id myapp -- node app.js");
      onExit(0);
    });

  const run = program
    .command("run")
    .description("run a sidecar and (optionally) your app beside it, or every app of a run file")
    .usage("[options] [-- <command...>]")
    .argument("[command...]", "the app's command line, after --")
    .option("-a, --app-id <id>", "the app id, used for service invocation (default: random)")
    .option(
      "-p, --app-port <port>",
      "the port the app listens on (none: no calls to the app)",
      parsePort,
    )
    .option(
      "-H, --dapr-http-port <port>",
      "the sidecar's HTTP API port (default: a free port)",
      parsePort,
    )
    .option(
      "-G, --dapr-grpc-port <port>",
      "the gRPC API port, given to the app as DAPR_GRPC_PORT (default: a free port)",
      parsePort,
    )
    .option(
      "--resources-path <dir>",
      "a resources directory; repeatable (default: ~/.outrig/components)",
      collect,
    )
    .addOption(
      new Option("-d, --components-path <dir>", "deprecated alias of --resources-path").argParser(
        collect,
      ),
    )
    .option("-c, --config <file>", "a Dapr Configuration file (default: ~/.outrig/config.yaml)")
    .addOption(
      new Option("-P, --app-protocol <protocol>", "the protocol the app speaks")
        .choices(["http", "grpc"])
        .default("http"),
    )
    .option("--app-channel-address <host>", "the address the app listens on", "127.0.0.1")
    .addOption(
      new Option("--log-level <level>", "the sidecar's log level")
        .choices(["debug", "info", "warn", "error", "fatal", "panic"])
        .default("info"),
    )
    .option("--enable-api-logging", "log every API call")
    .option(
      "--log-as-json",
      "JSON lines: daprd's fields for the sidecar, the dapr CLI's for its own",
    )
    .option(
      "--app-max-concurrency <n>",
      "at most this many concurrent calls to the app (default: unlimited)",
      parsePositiveInt,
    )
    .option("--app-health-check-path <path>", "the path probed with GET (default /healthz)")
    .option(
      "--enable-app-health-check",
      "probe the app; no pub/sub or input binding deliveries while it is unhealthy",
    )
    .option(
      "--app-health-probe-interval <seconds>",
      "seconds between probes (default 5)",
      parsePositiveInt,
    )
    .option(
      "--app-health-probe-timeout <ms>",
      "milliseconds a probe may take (default 500)",
      parsePositiveInt,
    )
    .option(
      "--app-health-threshold <n>",
      "failed probes in a row that make the app unhealthy (default 3)",
      parsePositiveInt,
    )
    .option(
      "-M, --metrics-port <port>",
      "the sidecar's Prometheus metrics port, GET /metrics (default: a free port)",
      parsePort,
    )
    .addOption(
      new Option(
        "--enable-metrics <enabled>",
        "daprd's switch: false turns the metrics port off (default true)",
      ).argParser((v) => {
        if (v !== "true" && v !== "false")
          throw new InvalidArgumentError("--enable-metrics takes true or false");
        return v === "true";
      }),
    )
    .option("--max-body-size <size>", "the largest request body, e.g. 4Mi (default 4Mi)")
    .addOption(
      new Option(
        "--dapr-http-max-request-size <mb>",
        "deprecated: the largest request body in MB",
      ).argParser(parseNonNegativeInt),
    )
    .option(
      "--dapr-graceful-shutdown-seconds <seconds>",
      "on stop, how long calls in flight may take (default 5)",
      parseNonNegativeInt,
    )
    .option(
      "--dapr-listen-addresses <address>",
      "the address the sidecar's HTTP API listens on (default 127.0.0.1)",
    )
    .option(
      "-f, --run-file <file>",
      "a multi-app run file (outrig.yaml or dapr.yaml), or a directory holding one",
    )
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Examples:
  outrig run --app-id myapp --app-port 3000 -- node app.js
  outrig run --app-id myapp                      # a sidecar alone, on a free port
  outrig run -f outrig.yaml                      # every app of a run file

The app gets APP_ID, APP_PORT, DAPR_HTTP_PORT, DAPR_GRPC_PORT and DAPR_HTTP_ENDPOINT.`,
    )
    .action(async (command: string[], flags: RunFlags, self: Command) => {
      onExit(await runCommand(command, flags, (name) => self.getOptionValueSource(name)));
    });
  for (const flag of DAPR_RUN_FLAGS) {
    if (flag.support === "honoured") continue;
    const names = `${flag.short ? `-${flag.short}, ` : ""}--${flag.name}${flag.value ? ` <${flag.value}>` : ""}`;
    run.addOption(new Option(names, `(dapr) ${flag.note}`));
  }

  const components = program
    .command("components")
    .description(
      "component packages for this machine's outrig, installed with npm into ~/.outrig/components",
    );
  components
    .command("add")
    .description("install component packages: a name (redis = @outrig/redis), a spec or a tarball")
    .argument("<packages...>", "e.g. redis, @outrig/kafka@0.2.0, ./outrig-redis-0.1.0.tgz")
    .action(async (names: string[]) => {
      const { addComponents } = await import("./components.ts");
      const installed = await addComponents(outrigPaths().components, names);
      success(`Installed in ${outrigPaths().components}: ${installed.join(", ")}`);
      onExit(0);
    });
  components
    .command("list")
    .description("list the component packages installed in ~/.outrig/components")
    .action(async () => {
      const { listComponents } = await import("./components.ts");
      const installed = await listComponents(outrigPaths().components);
      if (installed.length === 0) info("No component packages installed.");
      for (const name of installed) process.stdout.write(`${name}\n`);
      onExit(0);
    });
  components
    .command("remove")
    .description("uninstall component packages from ~/.outrig/components")
    .argument("<packages...>", "e.g. redis or @outrig/redis")
    .action(async (names: string[]) => {
      const { removeComponents } = await import("./components.ts");
      await removeComponents(outrigPaths().components, names);
      success(`Removed ${names.join(", ")}`);
      onExit(0);
    });

  program
    .command("version")
    .description("print the CLI and runtime versions")
    .addOption(new Option("-o, --output <format>", "output format").choices(["json"]))
    .action(async (flags: { output?: "json" }) => {
      const { RUNTIME_VERSION } = await import("@outrig/runtime");
      if (flags.output === "json") {
        process.stdout.write(
          `${JSON.stringify({ "Cli version": cliVersion, "Runtime version": RUNTIME_VERSION })}\n`,
        );
      } else {
        process.stdout.write(`CLI version: ${cliVersion} \nRuntime version: ${RUNTIME_VERSION}\n`);
      }
      onExit(0);
    });

  program
    .command("completion")
    .description("print a shell completion script: outrig completion bash >> ~/.bashrc")
    .addArgument(new Argument("<shell>", "the shell").choices(["bash", "zsh"]))
    .action(async (shell: "bash" | "zsh") => {
      const { completionScript } = await import("./completion.ts");
      process.stdout.write(completionScript(program, shell));
      onExit(0);
    });

  program
    .command("list")
    .description("list the apps started by outrig run on this machine")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "json", "yaml"])
        .default("table"),
    )
    .action(async (flags: { output: "table" | "json" | "yaml" }) => {
      const entries = (await new AppRegistry(outrigPaths().apps).list()).map((r) => toListEntry(r));
      if (flags.output === "json") process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      else if (flags.output === "yaml") {
        const { stringify } = await import("yaml");
        process.stdout.write(stringify(entries));
      } else if (entries.length === 0) info("No outrig instances found.");
      else process.stdout.write(`${formatTable(entries)}\n`);
      onExit(0);
    });

  program
    .command("dashboard")
    .description(
      "serve a web page of the running apps: components, subscriptions, request and message rates, traces",
    )
    .option(
      "-p, --port <port>",
      "the local port to serve the dashboard on (0: a free port)",
      parseListenPort,
      8080,
    )
    .option(
      "-a, --address <address>",
      "the address to listen on: an IP address or localhost",
      "127.0.0.1",
    )
    .option("-k, --kubernetes", "(dapr) not supported: outrig runs apps locally only")
    .option("-n, --namespace <namespace>", "(dapr) not supported: Kubernetes only")
    .option("-v, --version", "print the dashboard's version (outrig's own)")
    .action(
      async (flags: {
        port: number;
        address: string;
        kubernetes?: boolean;
        namespace?: string;
        version?: boolean;
      }) => {
        if (flags.version) {
          process.stdout.write(`${cliVersion}\n`);
          onExit(0);
          return;
        }
        const { runDashboard } = await import("./dashboard/run-dashboard.ts");
        onExit(await runDashboard(flags));
      },
    );

  program
    .command("stop")
    .description("stop apps started by outrig run: by app id, or every app of a run file")
    .option("-a, --app-id <id>", "the app id to stop; repeatable", collect)
    .option("-f, --run-file <file>", "stop every app started from this run file")
    .action(async (flags: { appId?: string[]; runFile?: string }) => {
      if (!flags.appId && !flags.runFile) {
        throw new CliError("stop: give --app-id <id> or --run-file <file>");
      }
      const registry = new AppRegistry(outrigPaths().apps);
      const runFile = flags.runFile
        ? await (await import("./run-file.ts")).locateRunFile(flags.runFile)
        : undefined;
      const records = await findAppsToStop(registry, { appIds: flags.appId, runFile });
      await stopApps(registry, records);
      for (const record of records) success(`app stopped successfully: ${record.appId}`);
      onExit(0);
    });

  return program;
}

/** Runs the CLI and resolves with its exit code (1 for any usage or input error). */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = createProgram((code) => {
    exitCode = code;
  });
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      consoleStatus.failure(error.message);
      return 1;
    }
    throw error;
  }
}
