import type { RunningApp } from "./run.ts";
import type { StatusLines } from "./status.ts";

/** Exit codes of a process that died from the signal we (or the terminal) sent while stopping. */
const STOPPED_BY_REQUEST = new Set([130, 137, 143]);

export interface SuperviseOptions {
  status: StatusLines;
  mode: "single" | "runFile";
  signals?: readonly NodeJS.Signals[];
}

/**
 * Keeps the apps running until a stop signal, or until every app with a command has finished
 * (a run of sidecars alone: until each was shut down through its API). An app that finishes
 * stops its own sidecar; the others keep running. Resolves with the exit code for the CLI:
 * - an app that exited by itself: its own code (the highest, with several);
 * - stopped by SIGINT/SIGTERM: 0, unless an app then exited with an error of its own.
 */
export function superviseApps(
  apps: readonly RunningApp[],
  options: SuperviseOptions,
): Promise<number> {
  const signals = options.signals ?? ["SIGINT", "SIGTERM", "SIGHUP"];
  return new Promise<number>((resolveExit) => {
    let finishing = false;
    const codes: number[] = [];
    const watched = apps.some((app) => app.hasApp) ? apps.filter((app) => app.hasApp) : apps;
    let running = watched.length;

    const finish = async (requested: boolean) => {
      if (finishing) return;
      finishing = true;
      for (const signal of signals) process.off(signal, onSignal);
      process.on("SIGINT", forceExit);
      const stopped = await Promise.all(apps.map((app) => app.stop()));
      // The dapr CLI's order (cmd/run.go): the sidecar's line, then the app's.
      if (requested && options.mode === "single") {
        options.status.success("Exited Dapr successfully");
        if (apps.some((app) => app.hasApp)) options.status.success("Exited App successfully");
      }
      if (requested) {
        for (const code of stopped) {
          if (code !== undefined && !STOPPED_BY_REQUEST.has(code)) codes.push(code);
        }
      }
      process.off("SIGINT", forceExit);
      resolveExit(codes.length ? Math.max(...codes) : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      options.status.info(
        options.mode === "single"
          ? "terminated signal received: shutting down"
          : "Received signal to stop Dapr and app processes. Shutting down Dapr and app processes.",
      );
      options.status.info(`Received ${signal}: stopping ${apps.map((a) => a.appId).join(", ")}`);
      void finish(true);
    };
    // A second Ctrl-C while stopping means "now".
    const forceExit = () => process.exit(130);

    for (const signal of signals) process.on(signal, onSignal);
    for (const app of apps) {
      void app.done.then(async (code) => {
        if (finishing) return;
        if (app.hasApp && options.mode === "single") {
          if (code === 0) options.status.success("Exited App successfully");
          else
            options.status.failure(`The App process exited with error code: exit status ${code}`);
        }
        options.status.info(
          app.hasApp
            ? `Exited App (${app.appId}) with code ${code}`
            : `Sidecar ${app.appId} shut down`,
        );
        codes.push(code);
        await app.stop();
        if (options.mode === "single") options.status.success("Exited Dapr successfully");
        if (!watched.includes(app)) return;
        running -= 1;
        if (running === 0) void finish(false);
      });
    }
  });
}
