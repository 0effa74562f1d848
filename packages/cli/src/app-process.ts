import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { LogOutput } from "./log-output.ts";

export interface AppProcessOptions {
  command: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: LogOutput;
  /** Console runs pass the terminal's stdin through; run files have several apps and pass none. */
  inheritStdin: boolean;
}

export interface AppProcess {
  readonly pid: number | undefined;
  /** Resolves with the exit code: the process's own, 128+n for death by signal n, 127 if it never started. */
  readonly exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Apps still running; if outrig itself dies (an uncaught error), they must not outlive it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGTERM");
  });
}

function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Starts the user's app with its output split into prefixed lines. */
export function startAppProcess(options: AppProcessOptions): AppProcess {
  const [file, ...args] = options.command;
  if (!file) throw new Error("empty app command");
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.inheritStdin ? "inherit" : "ignore", "pipe", "pipe"],
    // Windows needs a shell to find `npm.cmd` and friends; POSIX runs the command directly.
    shell: process.platform === "win32",
  });
  liveChildren.add(child);
  killChildrenOnExit();
  child.stdout?.on("data", (chunk: Buffer) => options.output.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => options.output.push(chunk));

  let done = false;
  const exited = new Promise<number>((resolveExit) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      liveChildren.delete(child);
      if (done) return;
      done = true;
      options.output.line(`failed to start ${JSON.stringify(file)}: ${error.message}`);
      resolveExit(error.code === "ENOENT" ? 127 : 126);
    });
    child.once("close", (code, signal) => {
      liveChildren.delete(child);
      if (done) return;
      done = true;
      resolveExit(code ?? (signal ? signalExitCode(signal) : 1));
    });
  });

  return {
    pid: child.pid,
    exited,
    async stop(graceMs = 5_000) {
      if (done) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
