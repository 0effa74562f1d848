/**
 * MQTT-style topic filters: levels split on `/`, `+` matches exactly one level, `#` as the last
 * level matches that level's parent and everything below it. `+` or `#` inside a level (`a+b`)
 * is an ordinary character, so Dapr topic names that merely contain them keep working.
 */
export type TopicMatcher = (topic: string) => boolean;

export function hasWildcard(filter: string): boolean {
  return filter.split("/").some((level) => level === "+" || level === "#");
}

/** Returns an error message when `#` is used anywhere but as the whole last level. */
export function checkTopicFilter(filter: string): string | undefined {
  const levels = filter.split("/");
  const hash = levels.indexOf("#");
  if (hash !== -1 && hash !== levels.length - 1) {
    return `'#' must be the last level of a topic filter: ${JSON.stringify(filter)}`;
  }
  return undefined;
}

export function topicMatcher(filter: string): TopicMatcher {
  if (!hasWildcard(filter)) return (topic) => topic === filter;
  const pattern = filter.split("/");
  return (topic) => {
    const levels = topic.split("/");
    for (let i = 0; i < pattern.length; i++) {
      const p = pattern[i];
      if (p === "#") return levels.length >= i;
      if (i >= levels.length) return false;
      if (p !== "+" && p !== levels[i]) return false;
    }
    return levels.length === pattern.length;
  };
}
