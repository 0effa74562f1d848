import type { AppRecord } from "./registry.ts";

/** One row of `outrig list -o json`, with the key names of `dapr list -o json`. */
export interface ListEntry {
  appId: string;
  httpPort: number;
  grpcPort: number;
  appPort: number;
  command: string;
  age: string;
  created: string;
  /** The sidecar runs inside the CLI process, so this equals cliPid. */
  daprdPid: number;
  cliPid: number;
  appPid: number;
  runTemplatePath: string;
  appLogPath: string;
  daprdLogPath: string;
}

export function formatAge(from: Date, now: Date = new Date()): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - from.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function formatCreated(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}.${pad(date.getSeconds())}`;
}

export function toListEntry(record: AppRecord, now: Date = new Date()): ListEntry {
  const started = new Date(record.startedAt);
  return {
    appId: record.appId,
    httpPort: record.httpPort,
    grpcPort: record.grpcPort,
    appPort: record.appPort ?? 0,
    command: record.command.join(" "),
    age: formatAge(started, now),
    created: formatCreated(started),
    daprdPid: record.cliPid,
    cliPid: record.cliPid,
    appPid: record.appPid ?? 0,
    runTemplatePath: record.runFile ?? "",
    appLogPath: record.appLogPath ?? "",
    daprdLogPath: record.sidecarLogPath ?? "",
  };
}

const COLUMNS: [string, (entry: ListEntry) => string][] = [
  ["APP ID", (e) => e.appId],
  ["HTTP PORT", (e) => String(e.httpPort)],
  ["GRPC PORT", (e) => String(e.grpcPort)],
  ["APP PORT", (e) => String(e.appPort)],
  ["COMMAND", (e) => (e.command.length > 40 ? `${e.command.slice(0, 37)}...` : e.command)],
  ["AGE", (e) => e.age],
  ["CREATED", (e) => e.created],
  ["CLI PID", (e) => String(e.cliPid)],
  ["APP PID", (e) => String(e.appPid)],
];

/** The `dapr list` table: left-aligned columns, two spaces apart. */
export function formatTable(entries: readonly ListEntry[]): string {
  const rows = [
    COLUMNS.map(([title]) => title),
    ...entries.map((e) => COLUMNS.map(([, get]) => get(e))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
