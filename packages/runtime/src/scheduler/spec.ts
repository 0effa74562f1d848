import { parseDuration } from "@outrig/core";
import { Cron } from "croner";

/**
 * When and how often a schedule fires, as Dapr's Jobs API describes it (`schedule`, `dueTime`,
 * `repeats`, `ttl`, `failurePolicy`). The texts are kept as given, so a job reads back as it was
 * written; `parseSpec` checks them and `timing` evaluates them.
 */
export interface ScheduleSpec {
  /** 6-field cron (seconds first), `@every <Go duration>` or a descriptor (`@daily`, ...). */
  schedule?: string | undefined;
  /** RFC 3339 time, Go duration or ISO-8601 duration (from creation). */
  dueTime?: string | undefined;
  /** How many times it fires in all; unset: until it expires or is deleted. */
  repeats?: number | undefined;
  /** When it expires: RFC 3339 time, Go duration or ISO-8601 duration (from creation). */
  ttl?: string | undefined;
  failurePolicy?: FailurePolicy | undefined;
}

export type FailurePolicy =
  | { drop: Record<string, never> }
  | { constant: { interval?: string | undefined; maxRetries?: number | undefined } };

/** Dapr's default when a job names no failure policy: retry every second, three times. */
export const DEFAULT_FAILURE_POLICY = {
  constant: { interval: "1s", maxRetries: 3 },
} as const satisfies FailurePolicy;

/** A spec field that cannot be read; `field` is its Dapr name. */
export class ScheduleSpecError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ScheduleSpecError";
    this.field = field;
  }
}

const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 0 1 1 *",
  "@annually": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 0",
  "@daily": "0 0 0 * * *",
  "@midnight": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const ISO_DURATION =
  /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** The next-tick function of a schedule: strictly after `from`, or undefined when none is left. */
type Next = (from: number) => number | undefined;

/** A Go duration (`1h30m`, `500ms`) in ms; bare numbers but `0` are not durations in Go. */
export function parseGoDuration(text: string): number | undefined {
  // Go's ParseDuration takes no bare numbers (but "0"); parseDuration would read them as seconds.
  if (/^[+-]?\d+(\.\d+)?$/.test(text.trim()) && text.trim() !== "0") return undefined;
  return parseDuration(text);
}

/** An ISO-8601 duration (`P1DT2H`, `PT0.5S`) in ms, years and months counted from `from`. */
export function parseIsoDuration(text: string, from: number): number | undefined {
  const m = ISO_DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase() === "P" || text.trim().toUpperCase().endsWith("T"))
    return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  // Years and months are calendar steps (a month is not a fixed number of ms).
  const date = new Date(from);
  date.setUTCFullYear(date.getUTCFullYear() + (y as number));
  date.setUTCMonth(date.getUTCMonth() + (mo as number));
  return (
    date.getTime() -
    from +
    ((w as number) * 7 + (d as number)) * 86_400_000 +
    (h as number) * 3_600_000 +
    (mi as number) * 60_000 +
    (s as number) * 1000
  );
}

/**
 * A point in time written as Dapr accepts it for `dueTime` and `ttl`: RFC 3339, or a Go or
 * ISO-8601 duration from `from` (the job's creation). Undefined when it is none of these.
 */
export function parsePointInTime(text: string, from: number): number | undefined {
  const t = text.trim();
  if (RFC3339.test(t)) {
    const ms = Date.parse(t.replace(" ", "T"));
    return Number.isNaN(ms) ? undefined : ms;
  }
  const go = parseGoDuration(t);
  if (go !== undefined) return go < 0 ? undefined : from + go;
  const iso = parseIsoDuration(t, from);
  return iso === undefined ? undefined : from + iso;
}

function parseSchedule(text: string): Next {
  const expression = text.trim();
  const every = /^@every\s+(.+)$/i.exec(expression);
  if (every) {
    const ms = parseGoDuration(every[1] as string);
    if (ms === undefined || ms <= 0) {
      throw new ScheduleSpecError(
        "schedule",
        `@every needs a positive duration such as 500ms, 5s or 1h30m, got ${JSON.stringify(every[1])}`,
      );
    }
    return (from) => from + ms;
  }
  const pattern = DESCRIPTORS[expression.toLowerCase()] ?? expression;
  if (pattern.startsWith("@")) {
    throw new ScheduleSpecError(
      "schedule",
      `unknown descriptor ${JSON.stringify(expression)} (use @every <duration>, @yearly, @monthly, @weekly, @daily or @hourly)`,
    );
  }
  if (pattern.split(/\s+/).length !== 6) {
    throw new ScheduleSpecError(
      "schedule",
      `cron needs 6 fields (seconds minutes hours day-of-month month day-of-week), got ${JSON.stringify(expression)}`,
    );
  }
  let cron: Cron;
  try {
    // domAndDow false: day-of-month and day-of-week are OR-ed when both are set, as in robfig/cron.
    cron = new Cron(pattern, { mode: "6-part", paused: true, domAndDow: false });
  } catch (error) {
    throw new ScheduleSpecError(
      "schedule",
      `invalid cron ${JSON.stringify(expression)}: ${(error as Error).message}`,
    );
  }
  return (from) => cron.nextRun(new Date(from))?.getTime();
}

/** The evaluated spec of one job. */
export interface Timing {
  /** When it first fires. */
  first: number;
  /** When it fires next after a tick that was due at `due`, given the time `now`; undefined: done. */
  next(due: number, count: number, now: number): number | undefined;
  /** Expiry (from `ttl`), if any. */
  expiresAt: number | undefined;
  /** Retry delay and limit for a failed tick; `undefined` interval: drop the tick. */
  retry: { intervalMs: number; maxRetries: number | undefined } | undefined;
}

/**
 * Checks a spec and evaluates it against the creation time `created`. Throws ScheduleSpecError
 * naming the field. A spec needs a schedule or a due time; a job whose ttl comes before its
 * first tick is refused, since it could never fire.
 */
export function timing(spec: ScheduleSpec, created: number): Timing {
  if (spec.schedule === undefined && spec.dueTime === undefined) {
    throw new ScheduleSpecError("schedule", "a job needs a schedule or a dueTime");
  }
  const next = spec.schedule === undefined ? undefined : parseSchedule(spec.schedule);
  let due: number | undefined;
  if (spec.dueTime !== undefined) {
    due = parsePointInTime(spec.dueTime, created);
    if (due === undefined) {
      throw new ScheduleSpecError(
        "dueTime",
        `${JSON.stringify(spec.dueTime)} is not an RFC 3339 time, a Go duration (10s, 1h30m) or an ISO-8601 duration (PT10S)`,
      );
    }
  }
  let expiresAt: number | undefined;
  if (spec.ttl !== undefined) {
    expiresAt = parsePointInTime(spec.ttl, created);
    if (expiresAt === undefined) {
      throw new ScheduleSpecError(
        "ttl",
        `${JSON.stringify(spec.ttl)} is not an RFC 3339 time, a Go duration or an ISO-8601 duration`,
      );
    }
  }
  if (
    spec.repeats !== undefined &&
    (!Number.isInteger(spec.repeats) || spec.repeats < 0 || spec.repeats > 0xffff_ffff)
  ) {
    throw new ScheduleSpecError("repeats", `must be a non-negative integer, got ${spec.repeats}`);
  }
  const first = due ?? (next as Next)(created);
  if (first === undefined) throw new ScheduleSpecError("schedule", "the schedule never fires");
  if (expiresAt !== undefined && expiresAt < first) {
    throw new ScheduleSpecError("ttl", "the job expires before it first fires");
  }
  const policy = spec.failurePolicy ?? DEFAULT_FAILURE_POLICY;
  let retry: Timing["retry"];
  if ("constant" in policy && policy.constant) {
    const interval = policy.constant.interval ?? "0s";
    const ms = parseGoDuration(interval);
    if (ms === undefined || ms < 0) {
      throw new ScheduleSpecError(
        "failurePolicy.constant.interval",
        `${JSON.stringify(interval)} is not a duration`,
      );
    }
    const max = policy.constant.maxRetries;
    if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
      throw new ScheduleSpecError(
        "failurePolicy.constant.maxRetries",
        `must be a non-negative integer, got ${max}`,
      );
    }
    retry = { intervalMs: ms, maxRetries: max };
  } else if (!("drop" in policy)) {
    throw new ScheduleSpecError("failurePolicy", "must be {constant: {...}} or {drop: {}}");
  }
  const repeats = spec.repeats === undefined || spec.repeats === 0 ? undefined : spec.repeats;
  return {
    first,
    expiresAt,
    retry,
    next(previousDue, count, now) {
      if (!next) return undefined; // a one-shot job
      if (repeats !== undefined && count >= repeats) return undefined;
      let at = next(previousDue);
      // Ticks missed while nothing ran (all sidecars down) are skipped, not fired in a burst.
      if (at !== undefined && at <= now) at = next(now);
      if (at === undefined) return undefined;
      if (expiresAt !== undefined && at > expiresAt) return undefined;
      return at;
    },
  };
}
