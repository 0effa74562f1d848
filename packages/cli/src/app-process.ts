import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { Writable } from "node:stream";
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
  /** SIGTERM to the app's process group, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** POSIX: the app leads its own process group, so a stop reaches `npm start`'s grandchildren too. */
const GROUPS = process.platform !== "win32";

/** How long the children of an app that exited by itself get to follow it before SIGKILL. */
const ORPHAN_GRACE_MS = 2_000;

/**
 * The parent-death watchdog, for when outrig itself is SIGKILLed (no exit hook runs, and Node
 * has no prctl(PR_SET_PDEATHSIG)). A `sh` in its own session reads a pipe whose only writer is
 * this process: the kernel closes it however outrig dies, `read` sees EOF, and the watchdog
 * signals the app's group (TERM, then KILL if it lingers). `sh` rather than a second Node
 * process: ~1 MB instead of ~40 MB per app, and it starts in a millisecond.
 */
const WATCHDOG = `read _ignored
kill -0 "-$1" 2>/dev/null || exit 0
kill -TERM "-$1" 2>/dev/null
i=0
while [ $i -lt 25 ]; do
  kill -0 "-$1" 2>/dev/null || exit 0
  sleep 0.2
  i=$((i + 1))
done
kill -KILL "-$1" 2>/dev/null
exit 0`;

function startWatchdog(pgid: number): Writable | undefined {
  const watchdog = spawn("/bin/sh", ["-c", WATCHDOG, "outrig-watchdog", String(pgid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.on("error", () => {});
  watchdog.unref();
  const pipe = watchdog.stdin;
  if (!pipe) return undefined;
  pipe.on("error", () => {});
  // The pipe must not keep outrig's event loop alive; it only has to stay open while outrig is.
  (pipe as unknown as { unref?: () => void }).unref?.();
  return pipe;
}

/** Apps still running; if outrig itself dies (an uncaught error), they must not outlive it. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function signalApp(child: ChildProcess, signal: NodeJS.Signals): void {
  if (GROUPS && child.pid !== undefined) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is empty: every process of the app is gone.
    }
    return;
  }
  child.kill(signal);
}

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) signalApp(child, "SIGTERM");
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
    // POSIX: setsid(), so the app leads a process group of its own (pgid = its pid).
    detached: GROUPS,
  });
  liveChildren.add(child);
  killChildrenOnExit();
  const watchdog = GROUPS && child.pid !== undefined ? startWatchdog(child.pid) : undefined;
  child.stdout?.on("data", (chunk: Buffer) => options.output.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => options.output.push(chunk));

  let done = false;
  let orphanTimer: NodeJS.Timeout | undefined;
  const exited = new Promise<number>((resolveExit) => {
    const finish = (code: number) => {
      liveChildren.delete(child);
      watchdog?.end();
      if (done) return;
      done = true;
      resolveExit(code);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (done) return;
      options.output.line(`failed to start ${JSON.stringify(file)}: ${error.message}`);
      finish(error.code === "ENOENT" ? 127 : 126);
    });
    // The leader's "exit" ends the app: the rest of its group (npm's `node server.js`) is
    // signalled too. The code is reported on "close", once the pipes have drained, which the
    // group's end brings about; a process that left the group but kept the pipes cannot hold
    // outrig past the fallback.
    let exitCode: number | undefined;
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? signalExitCode(signal) : 1);
      signalApp(child, "SIGTERM");
      orphanTimer = setTimeout(() => signalApp(child, "SIGKILL"), ORPHAN_GRACE_MS);
      orphanTimer.unref();
      setTimeout(() => finish(exitCode ?? 1), ORPHAN_GRACE_MS + 1_000).unref();
    });
    child.once("close", (code, signal) => {
      finish(exitCode ?? code ?? (signal ? signalExitCode(signal) : 1));
    });
  });

  return {
    pid: child.pid,
    exited,
    async stop(graceMs = 5_000) {
      if (done) return exited;
      signalApp(child, "SIGTERM");
      const timer = setTimeout(() => signalApp(child, "SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
