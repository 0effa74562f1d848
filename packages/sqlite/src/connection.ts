import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { ComponentError, type ConfigError } from "@outrig/core";
import { componentErrors } from "@outrig/core/kit";
import { COMPONENT_TYPE } from "./options.ts";

const errors = componentErrors(COMPONENT_TYPE);

export interface DatabaseTarget {
  /** What DatabaseSync opens: an absolute path or `:memory:`. */
  location: string;
  memory: boolean;
  readOnly: boolean;
  /** Opening must not create the file (`mode=rw`). */
  mustExist: boolean;
  /** `PRAGMA` statements from `_pragma=` URI parameters, already validated. */
  pragmas: string[];
}

const FORBIDDEN_PRAGMAS: Record<string, string> = {
  busy_timeout: "use the busyTimeout metadata field instead",
  journal_mode: "WAL is managed by the component; use disableWAL to turn it off",
};

function configError(message: string): ConfigError {
  return errors.config([{ field: "connectionString", message }]);
}

/**
 * Reads Dapr's `connectionString`: a path, `:memory:`, or a `file:` URI with the query parameters
 * Dapr's SQLite driver documents (`mode`, `cache`, `_txlock`, repeated `_pragma=name(value)`).
 */
export function parseConnectionString(connectionString: string): DatabaseTarget {
  const text = connectionString.trim();
  if (text === ":memory:") {
    return { location: ":memory:", memory: true, readOnly: false, mustExist: false, pragmas: [] };
  }
  if (!text.startsWith("file:")) {
    return {
      location: resolve(text),
      memory: false,
      readOnly: false,
      mustExist: false,
      pragmas: [],
    };
  }
  const q = text.indexOf("?");
  let path = text.slice("file:".length, q === -1 ? undefined : q);
  const params = new URLSearchParams(q === -1 ? "" : text.slice(q + 1));
  // file:///abs/path and file://localhost/abs/path are absolute; file:rel/path is relative.
  if (path.startsWith("//")) {
    const rest = path.slice(2);
    const slash = rest.indexOf("/");
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    if (authority !== "" && authority !== "localhost") {
      throw configError(`file: URI authority ${JSON.stringify(authority)} is not supported`);
    }
    path = slash === -1 ? "" : rest.slice(slash);
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    throw configError("file: URI path is not valid percent-encoding");
  }
  let memory = path === ":memory:";
  let readOnly = false;
  let mustExist = false;
  const pragmas: string[] = [];
  for (const [name, value] of params) {
    switch (name) {
      case "mode":
        if (value === "memory") memory = true;
        else if (value === "ro") readOnly = true;
        else if (value === "rw") mustExist = true;
        else if (value !== "rwc")
          throw configError(`mode must be ro, rw, rwc or memory, got ${value}`);
        break;
      case "cache":
      case "_txlock":
        // Writes always take the lock up front (BEGIN IMMEDIATE) and each store owns one
        // connection, so these driver knobs have nothing left to choose.
        break;
      case "_pragma":
        pragmas.push(parsePragma(value));
        break;
      default:
        throw configError(`unsupported file: URI parameter ${JSON.stringify(name)}`);
    }
  }
  if (memory) return { location: ":memory:", memory: true, readOnly, mustExist: false, pragmas };
  if (path === "") throw configError("file: URI names no file");
  return { location: resolve(path), memory: false, readOnly, mustExist, pragmas };
}

function parsePragma(value: string): string {
  const m = /^\s*([A-Za-z_]+)\s*(?:\(\s*([A-Za-z0-9_.-]*)\s*\)|=\s*([A-Za-z0-9_.-]*))?\s*$/.exec(
    value,
  );
  if (!m) throw configError(`_pragma must look like name(value), got ${JSON.stringify(value)}`);
  const name = (m[1] as string).toLowerCase();
  const reason = FORBIDDEN_PRAGMAS[name];
  if (reason) throw configError(`_pragma=${name} is not allowed: ${reason}`);
  const arg = m[2] ?? m[3];
  return arg === undefined || arg === "" ? `PRAGMA ${name}` : `PRAGMA ${name} = ${arg}`;
}

export interface OpenOptions {
  busyTimeoutMs: number;
  wal: boolean;
}

/** Opens the database and applies the pragmas; failures are ERR_UNAVAILABLE with the cause. */
export function openDatabase(target: DatabaseTarget, options: OpenOptions): DatabaseSync {
  let db: DatabaseSync;
  try {
    if (!target.memory && !target.readOnly && !target.mustExist) {
      mkdirSync(dirname(target.location), { recursive: true });
    }
    if ((target.mustExist || target.readOnly) && !existsSync(target.location)) {
      throw new Error("the database file does not exist (mode=rw and mode=ro never create it)");
    }
    db = new DatabaseSync(target.location, target.readOnly ? { readOnly: true } : {});
  } catch (cause) {
    throw errors.error(
      "ERR_UNAVAILABLE",
      `cannot open ${target.location}: ${(cause as Error).message}`,
      { cause },
    );
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs))}`);
    if (options.wal && !target.memory && !target.readOnly) db.exec("PRAGMA journal_mode = WAL");
    for (const pragma of target.pragmas) db.exec(pragma);
  } catch (cause) {
    db.close();
    throw errors.error(
      "ERR_UNAVAILABLE",
      `cannot configure ${target.location}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return db;
}

/** SQLITE_BUSY and SQLITE_LOCKED (with their extended codes): another connection holds the lock. */
export function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== "number") return false;
  const primary = code & 0xff;
  return primary === 5 || primary === 6;
}

/**
 * Calls `fn` until it stops failing with SQLITE_BUSY. Each attempt may block for `busyTimeout`
 * inside SQLite; between attempts the event loop gets a turn. Gives up with ERR_TIMEOUT.
 */
export async function retryWhileBusy<T>(
  fn: () => T,
  timeoutMs: number,
  action: string,
  component: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (Date.now() >= deadline) {
        throw new ComponentError(
          "ERR_TIMEOUT",
          `${action}: the database stayed locked by another connection for ${timeoutMs} ms`,
          { component, cause: error },
        );
      }
      await sleep(Math.min(100, 2 ** attempt) + Math.random() * 5);
    }
  }
}
