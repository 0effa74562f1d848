import { styleText } from "node:util";

/**
 * The CLI's own lines, as the dapr CLI prints its status events (pkg/print): info and success
 * on stdout, failures on stderr, each after its symbol, because scripts and CI pipelines (Dapr's
 * quickstart validation among them) match these lines.
 */
export interface StatusLines {
  info(message: string): void;
  success(message: string): void;
  warning(message: string): void;
  failure(message: string): void;
}

const textStatus: StatusLines = {
  info: (message) =>
    process.stdout.write(`${styleText("blue", "ℹ", { stream: process.stdout })}  ${message}\n`),
  success: (message) =>
    process.stdout.write(`${styleText("green", "✅", { stream: process.stdout })}  ${message}\n`),
  warning: (message) =>
    process.stdout.write(`${styleText("yellow", "⚠", { stream: process.stdout })}  ${message}\n`),
  failure: (message) =>
    process.stderr.write(`${styleText("red", "❌", { stream: process.stderr })}  ${message}\n`),
};

let active: StatusLines = textStatus;

/** The CLI's status lines: text with symbols, or JSON after `useJsonStatus()`. */
export const consoleStatus: StatusLines = {
  info: (message) => active.info(message),
  success: (message) => active.success(message),
  warning: (message) => active.warning(message),
  failure: (message) => active.failure(message),
};

/** Switches the CLI's own lines to the dapr CLI's JSON form (`--log-as-json`). */
export async function useJsonStatus(): Promise<void> {
  active = await jsonStatus();
}

/**
 * With `--log-as-json`, the dapr CLI's JSON lines: `{"time":…,"status":"info","msg":…}`, through
 * the same logger library as the sidecar's lines. Failures still go to stderr.
 */
async function jsonStatus(): Promise<StatusLines> {
  const { pino } = await import("pino");
  const log = pino(
    {
      customLevels: { info: 30, success: 31, warning: 40, failure: 50 },
      useOnlyCustomLevels: true,
      level: "info",
      base: undefined,
      messageKey: "msg",
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ status: label }) },
    },
    {
      write(chunk: string) {
        const stream = chunk.includes('"status":"failure"') ? process.stderr : process.stdout;
        stream.write(chunk);
      },
    },
  );
  return {
    info: (message) => log.info(message),
    success: (message) => log.success(message),
    warning: (message) => log.warning(message),
    failure: (message) => log.failure(message),
  };
}
