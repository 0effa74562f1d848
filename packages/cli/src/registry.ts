import { readFileSync, unlinkSync } from "node:fs";
import { mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "./errors.ts";

/** What a running `outrig run` publishes about one app, one JSON file per app id. */
export interface AppRecord {
  appId: string;
  /** The sidecar's Dapr HTTP API port. */
  httpPort: number;
  /** The sidecar's gRPC API port, handed to the app as DAPR_GRPC_PORT. */
  grpcPort: number;
  /** Where the sidecar's HTTP API and metrics answer (its listen address); absent: 127.0.0.1. */
  apiHost?: string;
  /** The sidecar's Prometheus port (`GET /metrics`); absent when metrics are off. */
  metricsPort?: number;
  appPort?: number;
  appHost: string;
  /** How the app is served (`--app-protocol`); absent in records of older versions: http. */
  appProtocol?: "http" | "grpc";
  /** The `outrig run` process that owns the sidecar (it runs in-process) and the app. */
  cliPid: number;
  /**
   * When the owning process started, in clock ticks since boot (Linux `/proc/<pid>/stat`), so a
   * recycled pid is not mistaken for the owner. Absent where the OS does not tell.
   */
  cliStartTicks?: number;
  appPid?: number;
  command: string[];
  /** ISO 8601. */
  startedAt: string;
  runFile?: string;
  appLogPath?: string;
  sidecarLogPath?: string;
}

const APP_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Dapr forbids dots in app ids (they separate the namespace); we also keep ids file-name safe. */
export function validateAppId(appId: string, source = "--app-id"): string {
  if (!APP_ID.test(appId)) {
    throw new CliError(
      `${source}: invalid app id ${JSON.stringify(appId)}: use letters, digits, "-" and "_" (no dots), starting with a letter or digit`,
    );
  }
  return appId;
}

/**
 * True while a process with this pid runs (EPERM: it exists but is not ours). A zombie does not
 * count: a SIGKILLed `outrig run` stays one until its parent reaps it, and a restart in that
 * window must not be refused as "already running".
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    // Gone between the two checks: not alive either.
    return true;
  }
}

/** A process's start time in clock ticks since boot, on Linux; undefined elsewhere or if gone. */
export function processStartTicks(pid: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (the command) may contain spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** The record's owner is still running: its pid is alive and, where known, started when recorded. */
export function ownerAlive(record: Pick<AppRecord, "cliPid" | "cliStartTicks">): boolean {
  if (!isAlive(record.cliPid)) return false;
  if (record.cliStartTicks === undefined) return true;
  const ticks = processStartTicks(record.cliPid);
  return ticks === undefined || ticks === record.cliStartTicks;
}

/**
 * The local app registry under `~/.outrig/apps`: how sidecars started by separate `outrig run`
 * commands find each other (Dapr uses mDNS for this). Files are written atomically (temp file,
 * then rename) so a reader never sees half a record; a record whose owner died is stale and is
 * deleted by whoever reads it.
 */
export class AppRegistry {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  private file(appId: string): string {
    return join(this.dir, `${appId}.json`);
  }

  /** Claims the app id; fails if a live process already holds it. */
  async register(record: AppRecord): Promise<void> {
    const existing = await this.get(record.appId);
    if (existing && existing.cliPid !== record.cliPid) {
      throw new CliError(
        `app id "${record.appId}" is already running (outrig pid ${existing.cliPid}); stop it with: outrig stop --app-id ${record.appId}`,
      );
    }
    await this.write(record);
  }

  async write(record: AppRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.file(record.appId);
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, "utf8");
    await rename(temp, target);
  }

  /** Removes the record only if this process still owns it. */
  async unregister(appId: string, cliPid: number = process.pid): Promise<void> {
    const record = await this.read(this.file(appId));
    if (record && record.cliPid !== cliPid) return;
    await unlink(this.file(appId)).catch(() => {});
  }

  /** For `process.on("exit")`, where nothing async runs: removes the entry if this process owns it. */
  unregisterSync(appId: string, cliPid: number = process.pid): void {
    try {
      const record = JSON.parse(readFileSync(this.file(appId), "utf8")) as AppRecord;
      if (record.cliPid === cliPid) unlinkSync(this.file(appId));
    } catch {
      // Gone or unreadable: nothing of ours to remove.
    }
  }

  /** The live record for an app id; a stale one is removed and reported as absent. */
  async get(appId: string): Promise<AppRecord | undefined> {
    if (!APP_ID.test(appId)) return undefined;
    const path = this.file(appId);
    const record = await this.read(path);
    if (!record) return undefined;
    if (!ownerAlive(record)) {
      await unlink(path).catch(() => {});
      return undefined;
    }
    return record;
  }

  /** Every live app, sorted by id; stale records are cleaned on the way. */
  async list(): Promise<AppRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const records: AppRecord[] = [];
    for (const name of names) {
      if (!name.endsWith(".json")) continue;
      const record = await this.get(name.slice(0, -".json".length));
      if (record) records.push(record);
    }
    return records.sort((a, b) => a.appId.localeCompare(b.appId));
  }

  private async read(path: string): Promise<AppRecord | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path, "utf8")) as AppRecord;
      return typeof parsed.appId === "string" && typeof parsed.cliPid === "number"
        ? parsed
        : undefined;
    } catch {
      return undefined;
    }
  }
}
