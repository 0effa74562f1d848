const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a Go-style duration (`500ms`, `5s`, `1m30s`, `1h`) into milliseconds. A bare number is
 * read as `bareUnit` (seconds by default), since Dapr metadata such as `cleanupIntervalInSeconds`
 * or `ttl` accepts plain numbers too. Returns `undefined` when the text is not a duration.
 */
export function parseDuration(text: string, bareUnit: "s" | "ms" = "s"): number | undefined {
  const input = text.trim();
  if (input === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(input)) {
    return Number(input) * (bareUnit === "s" ? 1000 : 1);
  }
  let sign = 1;
  let rest = input;
  if (rest.startsWith("-")) {
    sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  let total = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < rest.length) {
    const m = PART.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    matched++;
  }
  return matched === 0 ? undefined : sign * total;
}

/** Formats milliseconds as a Go-style duration (`1m30s`), the inverse of {@link parseDuration}. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}
