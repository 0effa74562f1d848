import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { megabytesToBytes, parseQuantity } from "@outrig/runtime";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DAPR_RUN_FILE_FIELDS } from "./dapr-flags.ts";
import { CliError } from "./errors.ts";
import { COLOUR_PAIRS, type LogDestination } from "./log-output.ts";
import type { OutrigPaths } from "./paths.ts";
import { validateAppId } from "./registry.ts";
import {
  type AppRunConfig,
  isDirectory,
  isFile,
  selectConfigFile,
  selectResources,
} from "./run-config.ts";
import { LOG_LEVELS, type LogLevel } from "./sidecar-logger.ts";

/** File names looked up when `-f` names a directory; Dapr's name is accepted so its templates work. */
export const RUN_FILE_NAMES = ["outrig.yaml", "outrig.yml", "dapr.yaml", "dapr.yml"] as const;

const port = z.coerce.number().int().min(1).max(65535);
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const destination = z.enum(["console", "file", "fileAndConsole"]);

// Field names are Dapr's (pkg/standalone RunConfig yaml tags), so a dapr.yaml loads unchanged.
const shared = {
  configFilePath: z.string().optional(),
  appProtocol: z.enum(["http", "grpc"], "only http and grpc are supported").optional(),
  logLevel: z
    .string()
    .transform((level) => (level === "fatal" || level === "panic" ? "error" : level))
    .pipe(z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]))
    .optional(),
  appMaxConcurrency: z.coerce.number().int().optional(),
  resourcesPath: z.string().optional(),
  resourcesPaths: z.array(z.string()).optional(),
  appHealthCheckPath: z.string().optional(),
  enableAppHealthCheck: z.boolean().optional(),
  appHealthProbeInterval: z.coerce.number().positive().optional(),
  appHealthProbeTimeout: z.coerce.number().positive().optional(),
  appHealthThreshold: z.coerce.number().int().positive().optional(),
  enableApiLogging: z.boolean().optional(),
  env: z.record(z.string(), scalar).optional(),
  appLogDestination: destination.optional(),
  daprdLogDestination: destination.optional(),
  maxBodySize: scalar.optional(),
  daprHTTPMaxRequestSize: z.coerce.number().int().min(0).optional(),
  apiListenAddresses: z.string().optional(),
};

const appSchema = z.object({
  ...shared,
  appDirPath: z.string({ error: "is required" }).min(1, "is required"),
  appID: z.string().optional(),
  appPort: port.optional(),
  appChannelAddress: z.string().optional(),
  daprHTTPPort: port.optional(),
  daprGRPCPort: port.optional(),
  metricsPort: port.optional(),
  command: z.array(scalar).optional(),
});

const runFileSchema = z.object({
  version: z.literal(1, "must be 1"),
  name: z.string().optional(),
  common: z.object(shared).optional(),
  apps: z
    .array(appSchema, { error: "is required (a list of apps)" })
    .min(1, "needs at least one app"),
});

type SharedFields = z.infer<z.ZodObject<typeof shared>>;

/** Run-file fields outrig does not honour, by name (dapr-flags.ts holds the rule). */
const NOT_HONOURED = new Map(
  DAPR_RUN_FILE_FIELDS.filter((f) => f.support !== "honoured").map((f) => [f.name, f]),
);

export interface RunFile {
  path: string;
  name?: string;
  apps: AppRunConfig[];
  /** Fields that were ignored, each named by its path, so a typo does not pass unnoticed. */
  warnings: string[];
}

/** Warnings for fields outside `known`; a field outrig refuses (unixDomainSocket...) throws. */
function ignoredFields(
  raw: unknown,
  known: readonly string[],
  where: string,
  file: string,
): string[] {
  if (typeof raw !== "object" || raw === null) return [];
  return Object.keys(raw)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const field = NOT_HONOURED.get(key);
      if (!field) return `${where}${key}: unknown field, ignored`;
      if (field.support === "refuse") throw new CliError(`${file}: ${where}${key}: ${field.note}`);
      return `${where}${key}: ${field.note}, ignored`;
    });
}

/** A run-file path: `~` is the home directory (as in Dapr), a relative path is relative to `base`. */
function resolvePath(base: string, path: string): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return resolve(base, path);
}

/** resourcesPaths plus resourcesPath, resolved from `base`; undefined when neither is set. */
function mergedResources(
  fields: Pick<SharedFields, "resourcesPath" | "resourcesPaths">,
  base: string,
): string[] | undefined {
  const all = [
    ...(fields.resourcesPaths ?? []),
    ...(fields.resourcesPath ? [fields.resourcesPath] : []),
  ];
  return all.length > 0 ? all.map((dir) => resolvePath(base, dir)) : undefined;
}

/** `-f` may name the file or a directory holding one of RUN_FILE_NAMES. */
export async function locateRunFile(argument: string): Promise<string> {
  const path = resolve(argument);
  if (await isFile(path)) return path;
  if (await isDirectory(path)) {
    for (const name of RUN_FILE_NAMES) {
      if (await isFile(join(path, name))) return join(path, name);
    }
    throw new CliError(`--run-file: no ${RUN_FILE_NAMES.join(" or ")} in directory ${path}`);
  }
  throw new CliError(`--run-file: file not found: ${path}`);
}

function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

/** Parses and validates a multi-app run file; every error names the file and the field. */
export async function loadRunFile(argument: string, paths: OutrigPaths): Promise<RunFile> {
  const path = await locateRunFile(argument);
  const base = dirname(path);
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, "utf8"));
  } catch (error) {
    throw new CliError(`${path}: invalid YAML: ${(error as Error).message}`);
  }
  const parsed = runFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issuePath(issue.path) || "(root)"}: ${issue.message}`,
    );
    throw new CliError(`${path}: invalid run file:\n${problems.join("\n")}`);
  }
  const root = raw as { common?: unknown; apps: unknown[] };
  const warnings = [
    ...ignoredFields(root, Object.keys(runFileSchema.shape), "", path),
    ...ignoredFields(root.common, Object.keys(shared), "common.", path),
    ...root.apps.flatMap((app, i) =>
      ignoredFields(app, Object.keys(appSchema.shape), `apps[${i}].`, path),
    ),
  ];
  const common: SharedFields = parsed.data.common ?? {};
  const started = timestamp(new Date());
  const seen = new Set<string>();
  const apps: AppRunConfig[] = [];

  for (const [index, app] of parsed.data.apps.entries()) {
    const where = `${path}: apps[${index}]`;
    const appDir = resolvePath(base, app.appDirPath);
    if (!(await isDirectory(appDir))) {
      throw new CliError(`${where}.appDirPath: directory not found: ${appDir}`);
    }
    const appId = validateAppId(app.appID ?? basename(appDir), `${where}.appID`);
    if (seen.has(appId)) throw new CliError(`${where}.appID: duplicate app id "${appId}"`);
    seen.add(appId);

    // Dapr's rules (pkg/runfileconfig): an app's own paths resolve from its appDirPath, common's
    // from the run file's folder; resourcesPath and resourcesPaths are merged. Then precedence:
    // the app's own, its .outrig (or Dapr's .dapr) folder, common, then ~/.outrig.
    const appResources = mergedResources(app, appDir);
    let resourcesSource = `${where}.resourcesPaths`;
    let resourceDirs = appResources;
    if (!resourceDirs) {
      for (const local of [
        join(appDir, ".outrig", "resources"),
        join(appDir, ".dapr", "resources"),
      ]) {
        if (await isDirectory(local)) {
          resourceDirs = [local];
          break;
        }
      }
    }
    if (!resourceDirs) {
      resourceDirs = mergedResources(common, base);
      resourcesSource = `${path}: common.resourcesPaths`;
    }
    const resources = await selectResources(resourceDirs, paths, resourcesSource);

    let configFile = app.configFilePath ? resolvePath(appDir, app.configFilePath) : undefined;
    let configSource = `${where}.configFilePath`;
    for (const local of [
      join(appDir, ".outrig", "config.yaml"),
      join(appDir, ".dapr", "config.yaml"),
    ]) {
      if (!configFile && (await isFile(local))) configFile = local;
    }
    if (!configFile && common.configFilePath) {
      configFile = resolvePath(base, common.configFilePath);
      configSource = `${path}: common.configFilePath`;
    }
    configFile = await selectConfigFile(configFile, paths, configSource);

    const logsDir = join(appDir, ".outrig", "logs");
    const appLog: LogDestination =
      app.appLogDestination ?? common.appLogDestination ?? "fileAndConsole";
    const sidecarLog: LogDestination =
      app.daprdLogDestination ?? common.daprdLogDestination ?? "file";
    const maxConcurrency = app.appMaxConcurrency || common.appMaxConcurrency;
    const bodySize = app.maxBodySize || common.maxBodySize;
    let maxBodySize: number | undefined;
    if (bodySize) {
      try {
        maxBodySize = parseQuantity(bodySize);
      } catch (error) {
        throw new CliError(`${where}.maxBodySize: ${(error as Error).message}`);
      }
    } else {
      const mb = app.daprHTTPMaxRequestSize || common.daprHTTPMaxRequestSize;
      if (mb) maxBodySize = megabytesToBytes(mb);
    }
    const listen = (app.apiListenAddresses || common.apiListenAddresses)
      ?.split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    if (listen && listen.length > 1) {
      throw new CliError(`${where}.apiListenAddresses: one address is supported yet`);
    }

    apps.push({
      appId,
      appPort: app.appPort,
      appHost: app.appChannelAddress ?? "127.0.0.1",
      httpPort: app.daprHTTPPort,
      grpcPort: app.daprGRPCPort,
      metricsPort: app.metricsPort,
      appProtocol: app.appProtocol || common.appProtocol || "http",
      resources,
      configFile,
      logLevel: app.logLevel ?? common.logLevel ?? "info",
      // Dapr's merge: common's value wherever the app's is the zero value (false, 0, "").
      enableApiLogging: (app.enableApiLogging || common.enableApiLogging) ?? false,
      appMaxConcurrency:
        maxConcurrency !== undefined && maxConcurrency > 0 ? maxConcurrency : undefined,
      appHealthCheckPath: app.appHealthCheckPath || common.appHealthCheckPath,
      enableAppHealthCheck: (app.enableAppHealthCheck || common.enableAppHealthCheck) ?? false,
      appHealthProbeInterval: app.appHealthProbeInterval || common.appHealthProbeInterval,
      appHealthProbeTimeout: app.appHealthProbeTimeout || common.appHealthProbeTimeout,
      appHealthThreshold: app.appHealthThreshold || common.appHealthThreshold,
      maxBodySize,
      listenAddress: listen?.[0],
      command: app.command ?? [],
      cwd: appDir,
      env: { ...common.env, ...app.env },
      appLog: { destination: appLog, filePath: join(logsDir, `${appId}_app_${started}.log`) },
      sidecarLog: {
        destination: sidecarLog,
        filePath: join(logsDir, `${appId}_outrig_${started}.log`),
      },
      labels: { app: `== APP - ${appId} ==`, sidecar: `== OUTRIG - ${appId} ==` },
      colours: COLOUR_PAIRS[index % COLOUR_PAIRS.length] ?? { app: "green", sidecar: "cyan" },
      runFile: path,
    });
  }
  return { path, name: parsed.data.name, apps, warnings };
}
