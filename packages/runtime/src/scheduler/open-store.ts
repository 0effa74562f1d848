import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { SqliteSchedulerStore } from "./sqlite-store.ts";
import type { SchedulerStore } from "./store.ts";

/**
 * The scheduler's default store: one SQLite file per machine, shared by every sidecar on it
 * (`$OUTRIG_HOME/scheduler.db`, else `~/.outrig/scheduler.db`, beside the CLI's state database).
 */
export function defaultSchedulerStore(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.OUTRIG_HOME ? resolve(env.OUTRIG_HOME) : join(homedir(), ".outrig");
  return join(home, "scheduler.db");
}

/**
 * Opens the store a location names: a `postgres://` or `postgresql://` connection string, or a
 * SQLite file path (`:memory:` for one process only).
 */
export async function openSchedulerStore(location: string): Promise<SchedulerStore> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { PostgresSchedulerStore } = await import("./postgres-store.ts");
    return PostgresSchedulerStore.open(location);
  }
  return new SqliteSchedulerStore(location);
}
