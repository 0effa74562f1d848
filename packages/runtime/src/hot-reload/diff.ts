import type { ComponentResource } from "../resources/model.ts";

export interface Diff<T> {
  added: T[];
  changed: { before: T; after: T }[];
  removed: T[];
}

export function hasChanges(d: Diff<unknown>): boolean {
  return d.added.length + d.changed.length + d.removed.length > 0;
}

/** What changed from `before` to `after`, matched by `key` and compared by `same`. */
export function diffBy<T>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  same: (a: T, b: T) => boolean,
): Diff<T> {
  const old = new Map(before.map((b) => [key(b), b]));
  const next = new Map(after.map((a) => [key(a), a]));
  const diff: Diff<T> = { added: [], changed: [], removed: [] };
  for (const [k, a] of next) {
    const b = old.get(k);
    if (!b) diff.added.push(a);
    else if (!same(b, a)) diff.changed.push({ before: b, after: a });
  }
  for (const [k, b] of old) if (!next.has(k)) diff.removed.push(b);
  return diff;
}

/** A component is its building block and name, as daprd tells components apart. */
export function componentKey(c: ComponentResource): string {
  return `${c.type.split(".")[0]}/${c.name}`;
}

/** Same spec: where in the files it sits (source, lines) is not part of it. */
export function sameComponent(a: ComponentResource, b: ComponentResource): boolean {
  const spec = (c: ComponentResource) =>
    JSON.stringify([
      c.type,
      c.version,
      c.namespace,
      c.metadata,
      c.initTimeoutMs,
      c.ignoreErrors,
      c.secretStore,
      c.scopes,
    ]);
  return spec(a) === spec(b);
}

/** Any other resource (Subscription, Configuration, ...): the same when all but its source is. */
export function sameResource<T extends { source: unknown }>(a: T, b: T): boolean {
  const { source: _a, ...left } = a;
  const { source: _b, ...right } = b;
  return JSON.stringify(left) === JSON.stringify(right);
}
