import { readdir, stat } from "node:fs/promises";
import { CliError } from "./errors.ts";
import type { Colour, LogDestination } from "./log-output.ts";
import type { OutrigPaths } from "./paths.ts";
import type { LogLevel } from "./sidecar-logger.ts";

/** Which resource files the sidecar loads. */
export interface ResourceSelection {
  /** Directories of component/subscription/resiliency YAML. */
  paths: string[];
  /** True when no directory was given and `~/.outrig/components` is missing (before `outrig init`). */
  embedded: boolean;
}

/** Everything needed to start one app with its sidecar, from flags or from a run file. */
export interface AppRunConfig {
  appId: string;
  appPort?: number;
  appHost: string;
  httpPort?: number;
  grpcPort?: number;
  /** The sidecar's Prometheus port; default a free one (the dapr CLI's `--metrics-port -1`). */
  metricsPort?: number;
  /** daprd's `--enable-metrics`; default true. */
  enableMetrics?: boolean;
  /** `grpc`: the sidecar calls the app's AppCallback service. */
  appProtocol: "http" | "grpc";
  resources: ResourceSelection;
  configFile?: string;
  logLevel: LogLevel;
  /** Sidecar lines as daprd's text (default) or JSON (`--log-as-json`). */
  logFormat?: "text" | "json";
  enableApiLogging: boolean;
  appMaxConcurrency?: number;
  appHealthCheckPath?: string;
  enableAppHealthCheck?: boolean;
  /** Seconds. */
  appHealthProbeInterval?: number;
  /** Milliseconds. */
  appHealthProbeTimeout?: number;
  appHealthThreshold?: number;
  /** Bytes; default the runtime's (4 MiB). */
  maxBodySize?: number;
  gracefulShutdownSeconds?: number;
  /** Where the sidecar's HTTP API listens; default 127.0.0.1. */
  listenAddress?: string;
  /** Empty: run the sidecar alone. */
  command: string[];
  cwd: string;
  env: Record<string, string>;
  appLog: { destination: LogDestination; filePath?: string };
  sidecarLog: { destination: LogDestination; filePath?: string };
  /** Console prefixes, e.g. `== APP ==` / `== OUTRIG ==`. */
  labels: { app: string; sidecar: string };
  colours: { app: Colour; sidecar: Colour };
  runFile?: string;
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function hasResourceFiles(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((name) => /\.ya?ml$/.test(name));
  } catch {
    return false;
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Explicit directories must exist (the error names where they came from); with none given,
 * `~/.outrig/components` is used if present, else the embedded defaults (SQLite state, in-memory pub/sub).
 */
export async function selectResources(
  explicit: readonly string[] | undefined,
  paths: OutrigPaths,
  source: string,
): Promise<ResourceSelection> {
  if (explicit && explicit.length > 0) {
    for (const dir of explicit) {
      if (!(await isDirectory(dir))) {
        throw new CliError(`${source}: resources directory not found: ${dir}`);
      }
    }
    return { paths: [...explicit], embedded: false };
  }
  // `outrig components add` may have made the folder (packages only) before `outrig init` wrote
  // any YAML: then the embedded defaults still apply.
  if (await hasResourceFiles(paths.components)) {
    return { paths: [paths.components], embedded: false };
  }
  return { paths: [], embedded: true };
}

/** An explicit config file must exist; otherwise `~/.outrig/config.yaml` is used when present. */
export async function selectConfigFile(
  explicit: string | undefined,
  paths: OutrigPaths,
  source: string,
): Promise<string | undefined> {
  if (explicit) {
    if (!(await isFile(explicit)))
      throw new CliError(`${source}: config file not found: ${explicit}`);
    return explicit;
  }
  return (await isFile(paths.config)) ? paths.config : undefined;
}
