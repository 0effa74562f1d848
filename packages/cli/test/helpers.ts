import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "@outrig/conformance/testing";

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
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    // Declared through `as` so the checks below still see the assignment made in the predicate.
    let match = null as RegExpMatchArray | null;
    // A process that has exited prints nothing more: stop at once rather than wait out the time.
    await waitUntil(
      () => {
        match = this.output.match(pattern);
        return match !== null || exited;
      },
      timeoutMs,
      () => `${pattern}; output:\n${this.output}`,
      25,
    );
    if (match) return match;
    throw new Error(`exited while waiting for ${pattern}; output:\n${this.output}`);
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
