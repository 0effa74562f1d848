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

export const consoleStatus: StatusLines = {
  info: (message) =>
    process.stdout.write(`${styleText("blue", "ℹ", { stream: process.stdout })}  ${message}\n`),
  success: (message) =>
    process.stdout.write(`${styleText("green", "✅", { stream: process.stdout })}  ${message}\n`),
  warning: (message) =>
    process.stdout.write(`${styleText("yellow", "⚠", { stream: process.stdout })}  ${message}\n`),
  failure: (message) =>
    process.stderr.write(`${styleText("red", "❌", { stream: process.stderr })}  ${message}\n`),
};
