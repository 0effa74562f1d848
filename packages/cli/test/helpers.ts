import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const binPath = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

/** The exact way the README's main command runs the CLI from source. */
export const nodeArgs = [
  "--conditions=@outrig/source",
  "--disable-warning=ExperimentalWarning",
  binPath,
];

export async function tempHome(): Promise<{ home: string; cleanup(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), "outrig-cli-"));
  return { home, cleanup: () => rm(home, { recursive: true, force: true }) };
}

function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, OUTRIG_HOME: home, NO_COLOR: "1", FORCE_COLOR: undefined, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export function runCli(
  args: readonly string[],
  options: { home: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: options.cwd,
      env: cliEnv(options.home, options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`outrig ${args.join(" ")} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A long-running `outrig run`, with its output collected for assertions. */
export class CliProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<number | null>;

  constructor(
    args: readonly string[],
    options: { home: string; cwd?: string; env?: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: options.cwd,
      env: cliEnv(options.home, options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const append = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    this.child.stdout?.on("data", append);
    this.child.stderr?.on("data", append);
    this.exited = new Promise((resolveExit) =>
      this.child.once("close", (code) => resolveExit(code)),
    );
  }

  /** Resolves with the first match of `pattern` in the output so far or to come. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (Date.now() < deadline) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${pattern}; output:\n${this.output}`);
  }

  /** Sends `signal`; SIGKILL follows after `graceMs` so no test leaves a process behind. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
