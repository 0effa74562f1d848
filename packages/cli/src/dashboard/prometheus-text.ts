const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/** A sample's labels from `{a="x",b="y"}` at the start of `text`, and where the set ends. */
function readLabels(text: string): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let at = 1;
  for (;;) {
    while (text[at] === " ") at++;
    if (text[at] === "}") return { labels, end: at + 1 };
    LABEL.lastIndex = at;
    const match = LABEL.exec(text);
    if (!match) return undefined;
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) =>
      c === "n" ? "\n" : c,
    );
    at = LABEL.lastIndex;
  }
}

/**
 * The sum over every label set of each named metric in Prometheus' text exposition format, e.g.
 * all `dapr_http_server_request_count{...}` samples of a sidecar; samples `skip` matches are left
 * out. A name with no sample is 0.
 */
export function sumSamples(
  text: string,
  names: readonly string[],
  skip: (labels: Record<string, string>) => boolean = () => false,
): Record<string, number> {
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const name = METRIC_NAME.exec(line)?.[0];
    if (name === undefined || !(name in sums)) continue;
    let rest = line.slice(name.length);
    if (rest.startsWith("{")) {
      const read = readLabels(rest);
      if (!read || skip(read.labels)) continue;
      rest = rest.slice(read.end);
    }
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}
