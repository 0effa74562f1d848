import { ConfigError, parseDuration } from "@outrig/core";
import { Cron } from "croner";

/** When the next tick is due, after `from`. */
export interface Schedule {
  /** The expression as configured. */
  readonly text: string;
  readonly timeZone: string;
  next(from: Date): Date | undefined;
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

function invalid(message: string): ConfigError {
  return new ConfigError([{ field: "schedule", message }], { component: "bindings.cron" });
}

/**
 * Parses a schedule as Dapr's cron binding does (robfig/cron with an optional seconds field and
 * descriptors). Cron fields are evaluated by croner (5 or 6 fields; day-of-month and day-of-week
 * OR-ed when both are restricted, as in Vixie cron); `@every` is a constant delay, truncated to
 * whole seconds and at least one second, as robfig does.
 */
export function parseSchedule(text: string): Schedule {
  let expression = text.trim();
  let timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(expression);
  if (tz) {
    timeZone = tz[1] as string;
    expression = (tz[2] as string).trim();
    try {
      new Intl.DateTimeFormat("en", { timeZone });
    } catch {
      throw invalid(`unknown time zone ${JSON.stringify(timeZone)}`);
    }
  }
  const every = /^@every\s+(.+)$/i.exec(expression);
  if (every) {
    const ms = parseDuration(every[1] as string);
    if (ms === undefined || ms <= 0 || /^\d+(\.\d+)?$/.test((every[1] as string).trim())) {
      throw invalid(
        `@every needs a duration such as 1s, 5m or 1h30m, got ${JSON.stringify(every[1])}`,
      );
    }
    const delay = Math.max(1000, ms - (ms % 1000));
    return {
      text,
      timeZone,
      next: (from) => new Date(from.getTime() + delay),
    };
  }
  const pattern = DESCRIPTORS[expression.toLowerCase()] ?? expression;
  if (pattern.startsWith("@")) throw invalid(`unknown descriptor ${JSON.stringify(expression)}`);
  let cron: Cron;
  try {
    cron = new Cron(pattern, { mode: "5-or-6-parts", paused: true, timezone: timeZone });
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  return {
    text,
    timeZone,
    next: (from) => cron.nextRun(from) ?? undefined,
  };
}
