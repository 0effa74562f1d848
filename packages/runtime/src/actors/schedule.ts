import { parseGoDuration, parseIsoDuration, parsePointInTime } from "../scheduler/spec.ts";

/** A reminder's or timer's `period`: how often, and how many times in all (undefined: forever). */
export interface Period {
  everyMs: number;
  repeats: number | undefined;
}

/** When and how often a reminder or timer fires, evaluated at registration. */
export interface Timing {
  /** The first tick (ms). */
  dueAt: number;
  /** Undefined: it fires once. */
  period: Period | undefined;
  /** No tick after this (ms). */
  expiresAt: number | undefined;
}

function duration(text: string, from: number, kind: string): number {
  const go = parseGoDuration(text);
  if (go !== undefined) return go;
  const upper = text.toUpperCase();
  if (/^P(\d+(\.\d+)?[YM])/.test(upper) || /^P[^T]*\d+(\.\d+)?M/.test(upper)) {
    throw new Error(
      `${kind} period ${JSON.stringify(text)}: periods in years or months are not supported; use days, hours, minutes or seconds`,
    );
  }
  const iso = parseIsoDuration(text, from);
  if (iso === undefined)
    throw new Error(`parse error: unsupported duration format ${JSON.stringify(text)}`);
  return iso;
}

/**
 * A period as Dapr reads it (dapr/kit's ParseDuration): a Go duration (`1m30s`), an ISO-8601
 * duration (`PT1M30S`) or an ISO-8601 repetition (`R5/PT1S`: five ticks in all). Empty: none.
 */
export function parsePeriod(
  text: string | undefined,
  kind: "reminder" | "timer",
  now: number,
): Period | undefined {
  const t = text?.trim() ?? "";
  if (t === "") return undefined;
  const fail = (detail: string) => new Error(`invalid ${kind} period: ${detail}`);
  let repeats: number | undefined;
  let rest = t;
  const repetition = /^R(\d*)\/(.*)$/i.exec(t);
  if (repetition) {
    repeats = repetition[1] === "" ? undefined : Number(repetition[1]);
    rest = repetition[2] as string;
    if (repeats === 0) throw fail("has zero repetitions");
  }
  let everyMs: number;
  try {
    everyMs = duration(rest, now, kind);
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (everyMs < 0) throw fail(`parse error: negative duration ${JSON.stringify(t)}`);
  // A zero period repeats nothing: the reminder or timer fires once, as in daprd.
  return everyMs === 0 ? undefined : { everyMs, repeats };
}

/**
 * Evaluates `dueTime`, `period` and `ttl` as daprd does: the due time is RFC 3339 or a duration
 * from now (empty: now); the ttl is RFC 3339 or a duration from the due time; a ttl already
 * passed, or before the due time, is refused.
 */
export function timingOf(
  spec: { dueTime?: string | undefined; period?: string | undefined; ttl?: string | undefined },
  kind: "reminder" | "timer",
  label: string,
  now: number,
): Timing {
  const dueText = spec.dueTime?.trim() ?? "";
  let dueAt = now;
  if (dueText !== "") {
    const at = parsePointInTime(dueText, now);
    if (at === undefined) {
      throw new Error(
        `error parsing ${kind} due time: ${JSON.stringify(dueText)} is not an RFC 3339 time, a Go duration (10s, 1h30m) or an ISO-8601 duration (PT10S)`,
      );
    }
    dueAt = at;
  }
  const period = parsePeriod(spec.period, kind, now);
  const ttlText = spec.ttl?.trim() ?? "";
  let expiresAt: number | undefined;
  if (ttlText !== "") {
    expiresAt = parsePointInTime(ttlText, dueAt);
    if (expiresAt === undefined) {
      throw new Error(
        `error parsing ${kind} TTL: ${JSON.stringify(ttlText)} is not an RFC 3339 time, a Go duration or an ISO-8601 duration`,
      );
    }
    if (now > expiresAt || dueAt > expiresAt) {
      throw new Error(
        `${kind} ${label} has already expired: dueTime: ${new Date(dueAt).toISOString()} TTL: ${ttlText}`,
      );
    }
  }
  return { dueAt, period, expiresAt };
}
