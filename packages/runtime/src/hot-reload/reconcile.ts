import type { Logger } from "@outrig/core";
import type { LoadedComponent, LoadedKind } from "../components/loader.ts";
import type { ComponentResource } from "../resources/model.ts";
import type { ComponentTable, Runtime } from "../runtime.ts";
import { componentKey, diffBy, sameComponent } from "./diff.ts";

export interface ComponentChange {
  name: string;
  type: string;
  kind: LoadedKind;
  change: "added" | "updated" | "removed";
  file: string;
}

export interface ComponentFailure {
  name: string;
  type: string;
  file: string;
  /** What is wrong, naming the file, document, field and line where it can. */
  reason: string;
}

export interface ComponentsReconciled {
  changes: ComponentChange[];
  failures: ComponentFailure[];
  /** Replaced or removed components, to close once their calls in flight finish. */
  retired: LoadedComponent[];
}

/**
 * Applies the change from the components `before` (as last read) to `after` to the runtime's
 * table: added ones are initialised and registered, changed ones initialised and swapped in
 * (the old one is retired), removed ones unregistered (and retired). A component whose new spec
 * cannot be resolved or initialised is a failure and the one running stays as it was.
 */
export async function reconcileComponents(
  runtime: Runtime,
  table: ComponentTable,
  before: readonly ComponentResource[],
  after: readonly ComponentResource[],
  logger: Logger,
): Promise<ComponentsReconciled> {
  const out: ComponentsReconciled = { changes: [], failures: [], retired: [] };
  const diff = diffBy(before, after, componentKey, sameComponent);
  const fail = (c: ComponentResource, error: unknown, running: boolean): void => {
    const reason = (error as Error).message;
    out.failures.push({ name: c.name, type: c.type, file: c.source.file, reason });
    const kept = running ? "the running one is kept" : "it is not loaded";
    (c.ignoreErrors ? logger.warn : logger.error).call(
      logger,
      `hot reload: component ${c.name} (${c.type}) from ${c.source.file} not applied, ${kept}: ${reason}`,
      { component: c.name, type: c.type, file: c.source.file },
    );
  };
  const running = (c: ComponentResource): LoadedComponent | undefined =>
    runtime.components.find((l) => componentKey(l.resource) === componentKey(c));

  const wanted = [...diff.added, ...diff.changed.map((c) => c.after)];
  const resolved = await Promise.all(
    wanted.map(async (c) => {
      try {
        return { c, definition: await table.resolve(c) };
      } catch (error) {
        fail(c, error, running(c) !== undefined);
        return undefined;
      }
    }),
  );
  const start = async ({
    c,
    definition,
  }: {
    c: ComponentResource;
    definition: Awaited<ReturnType<ComponentTable["resolve"]>>;
  }): Promise<void> => {
    let entry: LoadedComponent;
    try {
      entry = await table.init(c, definition);
    } catch (error) {
      fail(c, error, running(c) !== undefined);
      return;
    }
    const prior = table.put(entry);
    if (prior) out.retired.push(prior);
    const change = prior ? "updated" : "added";
    out.changes.push({ name: c.name, type: c.type, kind: entry.kind, change, file: c.source.file });
    logger.info(`component ${change}`, {
      name: c.name,
      type: c.type,
      version: c.version,
      file: c.source.file,
      ms: Math.round(entry.initMs),
    });
  };
  const ready = resolved.filter((r) => r !== undefined);
  // Secret stores first: the other components' secretKeyRefs read them.
  await Promise.all(ready.filter((r) => r.definition.kind === "secretstores").map(start));
  await Promise.all(ready.filter((r) => r.definition.kind !== "secretstores").map(start));

  for (const c of diff.removed) {
    const entry = running(c);
    if (!entry || !table.drop(entry.kind, entry.name)) continue;
    out.retired.push(entry);
    out.changes.push({
      name: c.name,
      type: c.type,
      kind: entry.kind,
      change: "removed",
      file: c.source.file,
    });
    logger.info("component removed", { name: c.name, type: c.type, file: c.source.file });
  }
  return out;
}
