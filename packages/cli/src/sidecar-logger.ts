import type { Logger } from "@outrig/core";
import { createLogger, type LogFormat } from "@outrig/runtime";
import type { LogOutput } from "./log-output.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * The sidecar's logger: the runtime's own (one formatter for both), in daprd's shape, with each
 * line going through the app's prefixed console / log file output.
 */
export function createSidecarLogger(
  output: LogOutput,
  appId: string,
  minimum: LogLevel = "info",
  format: LogFormat = "text",
): Logger {
  return createLogger({
    level: minimum,
    format,
    appId,
    scope: "outrig.runtime",
    write: (line) => output.line(line),
  });
}
