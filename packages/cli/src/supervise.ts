import type { RunningApp } from "./run.ts";

/** Exit codes of a process that died from the signal we (or the terminal) sent while stopping. */
const STOPPED_BY_REQUEST = new Set([130, 137, 143]);

export interface SuperviseOptions {
  announce(message: string): void;
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
      if (requested) {
        for (const code of stopped) {
          if (code !== undefined && !STOPPED_BY_REQUEST.has(code)) codes.push(code);
        }
      }
      process.off("SIGINT", forceExit);
      resolveExit(codes.length ? Math.max(...codes) : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      options.announce(`Received ${signal}: stopping ${apps.map((a) => a.appId).join(", ")}`);
      void finish(true);
    };
    // A second Ctrl-C while stopping means "now".
    const forceExit = () => process.exit(130);

    for (const signal of signals) process.on(signal, onSignal);
    for (const app of apps) {
      void app.done.then(async (code) => {
        if (finishing) return;
        options.announce(
          app.hasApp
            ? `Exited App (${app.appId}) with code ${code}`
            : `Sidecar ${app.appId} shut down`,
        );
        codes.push(code);
        await app.stop();
        if (!watched.includes(app)) return;
        running -= 1;
        if (running === 0) void finish(false);
      });
    }
  });
}
