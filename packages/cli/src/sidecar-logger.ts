import type { Logger } from "@outrig/core";
import type { LogOutput } from "./log-output.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

/**
 * The sidecar's logger, in daprd's logfmt shape (`time=… level=info msg="…" app_id=…`) so
 * people and tools reading Dapr logs read these the same way.
 */
export function createSidecarLogger(
  output: LogOutput,
  appId: string,
  minimum: LogLevel = "info",
): Logger {
  const threshold = LOG_LEVELS.indexOf(minimum);
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    let line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(message)} app_id=${appId}`;
    for (const [key, value] of Object.entries(fields ?? {})) {
      if (value !== undefined && key !== "appId") line += ` ${key}=${formatValue(value)}`;
    }
    output.line(line);
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}
