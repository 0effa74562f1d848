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
    if (apps.length === 0) {
      throw new CliError(`--run-file: no running apps were started from ${selector.runFile}`);
    }
    return apps;
  }
  const found: AppRecord[] = [];
  for (const appId of selector.appIds ?? []) {
    const record = await registry.get(appId);
    if (!record) {
      throw new CliError(`--app-id: no running app with id "${appId}" (see: outrig list)`);
    }
    found.push(record);
  }
  return found;
}

/**
 * Asks one app's sidecar to shut down through its API (`POST /v1.0/shutdown`); its `outrig run`
 * then stops that app and its sidecar and keeps the other apps it runs.
 */
async function shutdownOne(
  record: AppRecord,
  registry: AppRegistry,
  deadline: number,
): Promise<void> {
  const token = process.env.DAPR_API_TOKEN;
  const response = await fetch(`http://127.0.0.1:${record.httpPort}/v1.0/shutdown`, {
    method: "POST",
    headers: token ? { "dapr-api-token": token } : {},
    signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
  }).catch((error: Error) => {
    throw new CliError(`${record.appId}: cannot reach its sidecar to stop it: ${error.message}`);
  });
  if (!response.ok) {
    throw new CliError(
      `${record.appId}: its sidecar refused to shut down (HTTP ${response.status})`,
    );
  }
  while ((await registry.get(record.appId)) && Date.now() < deadline) await sleep(50);
  if (await registry.get(record.appId)) {
    throw new CliError(`${record.appId} did not stop in time`);
  }
}

/**
 * Stops the selected apps. When every app of an `outrig run` process is selected, that process
 * gets SIGTERM (it stops its apps and sidecars and cleans the registry) and the command waits for
 * it to exit. An app that shares its process with apps not selected (one app of a run file) is
 * stopped alone, through its sidecar's shutdown API.
 */
export async function stopApps(
  registry: AppRegistry,
  records: readonly AppRecord[],
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const selected = new Set(records.map((record) => record.appId));
  const everyApp = await registry.list();
  const sharesProcess = (record: AppRecord) =>
    everyApp.some((other) => other.cliPid === record.cliPid && !selected.has(other.appId));

  await Promise.all(
    records.filter(sharesProcess).map((record) => shutdownOne(record, registry, deadline)),
  );

  const pids = [...new Set(records.filter((r) => !sharesProcess(r)).map((r) => r.cliPid))];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone: nothing to stop.
    }
  }
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
  const stuck = pids.filter(isAlive);
  if (stuck.length > 0) {
    throw new CliError(
      `outrig process ${stuck.join(", ")} did not stop within ${timeoutMs / 1000}s`,
    );
  }
}
