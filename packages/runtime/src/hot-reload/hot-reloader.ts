import { type Logger, silentLogger } from "@outrig/core";
import { deniedBy, withoutDenied } from "../components/deny-list.ts";
import { inScope } from "../components/loader.ts";
import type {
  ComponentResource,
  ConfigurationResource,
  HttpEndpointResource,
  Resources,
  SubscriptionResource,
} from "../resources/model.ts";
import { locate } from "../resources/parse.ts";
import { componentTable, type Runtime } from "../runtime.ts";
import { componentKey, type Diff, diffBy, hasChanges, sameResource } from "./diff.ts";
import { type ComponentChange, type ComponentFailure, reconcileComponents } from "./reconcile.ts";
import { ResourceFiles, type ResourcesRead } from "./resource-files.ts";
import { type Unwatch, watchResourcesPaths } from "./watch.ts";

/** daprd's default `--dapr-graceful-shutdown-seconds`, as the bound of a retired component's drain. */
const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
const DEFAULT_DEBOUNCE_MS = 100;

export interface HotReloadOptions {
  logger?: Logger;
  /**
   * How long the calls in flight on a replaced or removed component may take before it is
   * closed anyway. Default 5000.
   */
  drainTimeoutMs?: number;
  /** Quiet time after a file change before the resources are read again. Default 100. */
  debounceMs?: number;
  /**
   * Called after a reload changed something, before the replaced components are closed (so
   * subscriptions can move to a new pubsub instance first).
   */
  onReload?: (report: ReloadReport) => void | Promise<void>;
}

export interface ReloadReport {
  components: ComponentChange[];
  failures: ComponentFailure[];
  /** Declarative subscriptions of this app, by name. */
  subscriptions: Diff<SubscriptionResource>;
  /** HTTPEndpoints, by name (the sidecar resolves and applies them; library mode has none). */
  httpEndpoints: Diff<HttpEndpointResource>;
  /** Changed resources that only a restart applies (Configuration, Resiliency). */
  restartNeeded: { kind: string; name: string; file: string }[];
  /** Files that could not be read; what they held before stays applied. */
  broken: ResourcesRead["broken"];
}

/** The kinds outrig reads at start only, by their field in `Resources`. */
const RESTART_KINDS = {
  configurations: "Configuration",
  resiliencies: "Resiliency",
} as const;

/**
 * Whether a Configuration in scope turns hot reload off, as Dapr 1.18 does it: the `HotReload`
 * feature with `enabled: false` (on by default since 1.18). Returns that Configuration.
 */
export function hotReloadDisabledBy(
  configurations: readonly ConfigurationResource[],
  appId: string,
): ConfigurationResource | undefined {
  return configurations.find(
    (c) =>
      inScope(c.scopes, appId) &&
      (c.spec.features ?? []).some((f) => f.name === "HotReload" && !f.enabled),
  );
}

/**
 * Hot reload of a runtime's resources (Dapr's HotReload): re-reads its resources paths and
 * applies what changed to the running components; `watch()` does it on every file change.
 * One reload runs at a time; a change during one is read by the next.
 */
export class HotReloader {
  readonly #runtime: Runtime;
  readonly #logger: Logger;
  readonly #drainTimeoutMs: number;
  readonly #debounceMs: number;
  readonly #onReload: HotReloadOptions["onReload"];
  readonly #files: ResourceFiles;
  readonly #paths: readonly string[];
  /** The components as last read (applied or not), so a failed edit is retried only when edited. */
  #read: ComponentResource[];
  /** The kinds only a restart applies, as last read, so each edit is warned about once. */
  #readOthers: Pick<Resources, keyof typeof RESTART_KINDS>;
  #reloading: Promise<unknown> = Promise.resolve();
  readonly #retiring = new Set<Promise<unknown>>();
  #unwatch: Unwatch | undefined;
  #closed = false;

  constructor(runtime: Runtime, options: HotReloadOptions = {}) {
    const table = componentTable(runtime);
    if (!table) throw new TypeError("hot reload needs a runtime made by createRuntime");
    this.#runtime = runtime;
    this.#logger = options.logger ?? table.options.logger ?? silentLogger;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#onReload = options.onReload;
    this.#paths = table.options.resourcesPaths ?? [];
    this.#files = new ResourceFiles(this.#paths, table.options.resources);
    // What was loaded: denied components never were (their warning was logged at load).
    this.#read = this.#inScope(runtime.resources.components).filter(
      (c) => !deniedBy(runtime.resources.configurations, c),
    );
    this.#readOthers = runtime.resources;
  }

  /** Starts watching the resources paths; resolves once the watchers are set. */
  async watch(): Promise<void> {
    if (this.#unwatch || this.#closed) return;
    // Read once now, so each file's last good resources are known before an edit can break it.
    await this.reload();
    this.#unwatch = await watchResourcesPaths(
      this.#paths,
      () => {
        this.reload().catch((error: unknown) =>
          this.#logger.error("hot reload failed", { error: (error as Error).message }),
        );
      },
      { debounceMs: this.#debounceMs, logger: this.#logger },
    );
    this.#logger.info("hot reload: watching the resources paths", { paths: this.#paths });
  }

  /** Re-reads the resources and applies what changed. */
  reload(): Promise<ReloadReport> {
    const next = this.#reloading.then(() => this.#apply());
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  /** Stops watching; waits for the reload under way and the replaced components' drains. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unwatch?.();
    await this.#reloading;
    await Promise.allSettled([...this.#retiring]);
  }

  #inScope<T extends { scopes: string[] }>(items: readonly T[]): T[] {
    return items.filter((i) => inScope(i.scopes, this.#runtime.appId));
  }

  async #apply(): Promise<ReloadReport> {
    const runtime = this.#runtime;
    const table = componentTable(runtime);
    if (!table) throw new TypeError("hot reload needs a runtime made by createRuntime");
    const read = await this.#files.read();
    for (const b of read.broken) {
      this.#logger.error(
        `hot reload: ${b.file} not applied, its resources stay as they were: ${b.issues
          .map((i) => `${i.field}: ${i.message}`)
          .join("; ")}`,
        { file: b.file },
      );
    }
    const before = runtime.resources;
    // The deny list is the one read at start: Configuration changes need a restart.
    const after = this.#unique(
      withoutDenied(
        this.#inScope(read.resources.components),
        runtime.resources.configurations,
        this.#logger,
      ),
    );
    const reconciled = this.#closed
      ? { changes: [], failures: [], retired: [] }
      : await reconcileComponents(runtime, table, this.#read, after, this.#logger);
    this.#read = after;
    const subscriptions = diffBy(
      this.#inScope(before.subscriptions),
      this.#inScope(read.resources.subscriptions),
      (s) => s.name,
      sameResource,
    );
    const restartNeeded: ReloadReport["restartNeeded"] = [];
    for (const [field, kind] of Object.entries(RESTART_KINDS) as [
      keyof typeof RESTART_KINDS,
      string,
    ][]) {
      const diff = diffBy<Resources[typeof field][number]>(
        this.#readOthers[field],
        read.resources[field],
        (r) => r.name,
        sameResource,
      );
      for (const r of [...diff.added, ...diff.changed.map((c) => c.after), ...diff.removed]) {
        restartNeeded.push({ kind, name: r.name, file: r.source.file });
        this.#logger.warn(
          `hot reload: ${kind} ${r.name} changed in ${r.source.file}; restart the sidecar to apply it (outrig reloads components, subscriptions and HTTPEndpoints)`,
          { kind, name: r.name, file: r.source.file },
        );
      }
    }
    this.#readOthers = read.resources;
    for (const [change, list] of [
      ["added", subscriptions.added],
      ["updated", subscriptions.changed.map((c) => c.after)],
      ["removed", subscriptions.removed],
    ] as const) {
      for (const s of list)
        this.#logger.info(`subscription ${change}`, {
          name: s.name,
          pubsubname: s.pubsubname,
          topic: s.topic,
          file: s.source.file,
        });
    }
    const httpEndpoints = diffBy(
      before.httpEndpoints,
      read.resources.httpEndpoints,
      (e) => e.name,
      sameResource,
    );
    // Configurations and Resiliencies stay as applied; the other kinds take the new read.
    table.setResources({
      ...read.resources,
      configurations: before.configurations,
      resiliencies: before.resiliencies,
    });
    const report: ReloadReport = {
      components: reconciled.changes,
      failures: reconciled.failures,
      subscriptions,
      httpEndpoints,
      restartNeeded,
      broken: read.broken,
    };
    const changed =
      report.components.length > 0 || hasChanges(subscriptions) || hasChanges(httpEndpoints);
    try {
      if (changed) await this.#onReload?.(report);
    } finally {
      for (const entry of reconciled.retired) {
        const retiring = table.retire(entry, this.#drainTimeoutMs).then((idle) => {
          if (!idle)
            this.#logger.warn("component closed with calls still in flight", {
              name: entry.name,
              drainTimeoutMs: this.#drainTimeoutMs,
            });
          this.#logger.info("component closed", { name: entry.name, type: entry.type });
        });
        this.#retiring.add(retiring);
        void retiring.finally(() => this.#retiring.delete(retiring));
      }
    }
    return report;
  }

  /** The components with a name used twice dropped after the first, as start-up refuses them. */
  #unique(components: ComponentResource[]): ComponentResource[] {
    const seen = new Map<string, ComponentResource>();
    for (const c of components) {
      const prior = seen.get(componentKey(c));
      if (!prior) {
        seen.set(componentKey(c), c);
        continue;
      }
      this.#logger.error(
        `hot reload: component ${c.name} in ${locate(c.source, "metadata.name", c.fieldLines["metadata.name"])} not applied: it is already defined in ${prior.source.file} [document ${prior.source.document}]`,
        { component: c.name, file: c.source.file },
      );
    }
    return [...seen.values()];
  }
}
