/**
 * `spec.metrics.http.pathMatching`, as daprd reads it (a Go ServeMux per pattern list): a path
 * matching one of the patterns is labelled with the pattern itself (`/orders/{orderID}`); an
 * unmatched one keeps its own label with increased cardinality, else becomes daprd's catch-all
 * `_`. Patterns: `{name}` is one segment, `{name...}` the rest, a trailing `/` every path below,
 * anything else literal; of several matches the most specific wins (most literal segments,
 * then an exact pattern over a subtree). Compiled once at start-up into one matcher.
 */
export function pathMatcher(
  patterns: readonly string[],
  increasedCardinality: boolean,
): ((path: string) => string | undefined) | undefined {
  if (patterns.length === 0) return undefined;
  const compiled = patterns
    .map((pattern) => {
      const subtree = pattern.endsWith("/");
      const segments = pattern.split("/").filter((s) => s !== "");
      const parts = segments.map((s) => {
        if (/^\{[^}]*\.\.\.\}$/.test(s)) return "[^?]*";
        if (/^\{[^}]*\}$/.test(s)) return "[^/]+";
        return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      });
      const body = parts.map((p) => `/${p}`).join("");
      const regex = new RegExp(`^${body}${subtree ? "/.*" : ""}$`);
      const literals = segments.filter((s) => !s.startsWith("{")).length;
      return { pattern, regex, rank: literals * 2 + (subtree ? 0 : 1) };
    })
    .sort((a, b) => b.rank - a.rank);
  // A catch-all `/` pattern matches everything itself; without one, daprd's own catch-all.
  const unmatched = compiled.some((c) => c.pattern === "/") ? undefined : "_";
  return (path) => {
    const p = path.startsWith("/") ? path : `/${path}`;
    for (const c of compiled) if (c.regex.test(p)) return c.pattern;
    return increasedCardinality ? undefined : unmatched;
  };
}
