import { hostname } from "node:os";
import type { Logger } from "@outrig/core";
import { pino } from "pino";
import { RUNTIME_VERSION } from "./version.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
/** `text`: daprd's logfmt lines (its default); `json`: daprd's `--log-as-json` objects. */
export type LogFormat = "text" | "json";

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** daprd's `scope` field, e.g. `dapr.runtime`. */
  scope?: string;
  appId?: string;
  /** Where each finished line goes (without its newline); default stderr. */
  write?: (line: string) => void;
}

/** daprd (logrus) names the warn level `warning`, in text and JSON alike. */
const LEVEL_NAMES: Record<string, string> = { warn: "warning" };
/** Written first, in this order; the rest follow sorted by name, as logrus's text formatter does. */
const LEADING = ["time", "level", "msg"];

function logfmtValue(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text === "" || /[\s"=\\]/.test(text) ? JSON.stringify(text) : text;
}

/** One JSON line from pino, as daprd's text line: `time="…" level=info msg="…" app_id=… …`. */
function toLogfmt(json: string): string {
  const entry = JSON.parse(json) as Record<string, unknown>;
  const keys = [
    ...LEADING.filter((k) => k in entry),
    ...Object.keys(entry)
      .filter((k) => !LEADING.includes(k))
      .sort(),
  ];
  return keys
    .map((k) => (k === "time" ? `time="${entry[k]}"` : `${k}=${logfmtValue(entry[k])}`))
    .join(" ");
}

/** daprd's own fields; a caller's field of the same name must not overwrite them. */
const RESERVED = new Set(["time", "level", "msg", "scope", "app_id", "instance", "type", "ver"]);

/**
 * Errors become their message (JSON.stringify would give `{}`); `appId` is `app_id` already; a
 * field named like one of daprd's is renamed (`type` is a component type in the runtime's calls).
 */
function plainFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined || key === "appId") continue;
    const name = key === "type" ? "component_type" : RESERVED.has(key) ? `${key}_field` : key;
    out[name] = value instanceof Error ? value.message : value;
  }
  return out;
}

/**
 * The one logger of the CLI and the runtime (pino underneath): daprd's fields
 * (`time level msg scope app_id instance type ver`), as text by default or as JSON.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "text";
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base: Record<string, string> = {
    instance: hostname(),
    scope: options.scope ?? "outrig.runtime",
    type: "log",
    ver: RUNTIME_VERSION,
  };
  if (options.appId) base.app_id = options.appId;
  const log = pino(
    {
      level: options.level ?? "info",
      base,
      messageKey: "msg",
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: LEVEL_NAMES[label] ?? label }) },
    },
    {
      // Synchronous and in order: a line is out before the call returns, as tests and the
      // CLI's prefixed console output expect.
      write(chunk: string) {
        const json = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
        write(format === "json" ? json : toLogfmt(json));
      },
    },
  );
  return {
    debug: (message, fields) => log.debug(plainFields(fields), message),
    info: (message, fields) => log.info(plainFields(fields), message),
    warn: (message, fields) => log.warn(plainFields(fields), message),
    error: (message, fields) => log.error(plainFields(fields), message),
  };
}

/** A logfmt-style logger on stderr, like daprd's text output. */
export function createConsoleLogger(level: LogLevel = "info", scope = "outrig.runtime"): Logger {
  return createLogger({ level, scope });
}
