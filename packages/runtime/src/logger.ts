import type { Logger } from "@outrig/core";

export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logfmt-style logger on stderr, like daprd's text output. */
export function createConsoleLogger(level: LogLevel = "info", scope = "outrig.runtime"): Logger {
  const min = ORDER[level];
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < min) return;
    let line = `time="${new Date().toISOString()}" level=${lvl} msg=${JSON.stringify(message)} scope=${scope}`;
    if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${JSON.stringify(v)}`;
    process.stderr.write(`${line}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}
