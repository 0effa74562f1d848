import { setTimeout as sleep } from "node:timers/promises";
import { CliError } from "./errors.ts";
import { type AppRecord, type AppRegistry, isAlive } from "./registry.ts";

/** Picks the records to stop: by app id (each must be running) or by the run file that started them. */
export async function findAppsToStop(
  registry: AppRegistry,
  selector: { appIds?: readonly string[]; runFile?: string },
): Promise<AppRecord[]> {
  if (selector.runFile) {
    const apps = (await registry.list()).filter((record) => record.runFile === selector.runFile);
    if (apps.length === 0)
      throw new CliError(`--run-file: no running apps were started from ${selector.runFile}`);
    return apps;
  }
  const found: AppRecord[] = [];
  for (const appId of selector.appIds ?? []) {
    const record = await registry.get(appId);
    if (!record)
      throw new CliError(`--app-id: no running app with id "${appId}" (see: outrig list)`);
    found.push(record);
  }
  return found;
}

/**
 * Sends SIGTERM to each owning `outrig run` process (which stops the app and the sidecar and
 * cleans its registry entry), then waits for it to exit so the command returns when it is done.
 */
export async function stopApps(
  records: readonly AppRecord[],
  timeoutMs = 15_000,
): Promise<number[]> {
  const pids = [...new Set(records.map((record) => record.cliPid))];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone: nothing to stop.
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  const stuck = pids.filter(isAlive);
  if (stuck.length > 0)
    throw new CliError(
      `outrig process ${stuck.join(", ")} did not stop within ${timeoutMs / 1000}s`,
    );
  return pids;
}
