import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { errorMessage, type Logger } from "@outrig/core";
import { ActorRuntime } from "./actors/actor-runtime.ts";
import { httpActorApp } from "./actors/app-calls.ts";
import { ActorForwarder } from "./actors/forwarding.ts";
import { openMembershipStore } from "./actors/membership.ts";
import { type ActorPlacement, LocalPlacement } from "./actors/placement.ts";
import { ActorState, findActorStateStore } from "./actors/state.ts";
import { TablePlacement } from "./actors/table-placement.ts";
import { apiAccess } from "./api/api-allowlist.ts";
import { ConfigurationSubscriptions } from "./api/configuration.ts";
import type { ApiContext, AppAddress } from "./api/context.ts";
import { closeExternalPools } from "./api/external.ts";
import { closeRemotePools, DEFAULT_INVOCATION_TIMEOUT_MS } from "./api/invoke.ts";
import { jobPrefix, jobTrigger } from "./api/jobs.ts";
import { Outbox } from "./api/outbox.ts";
import { StreamingSubscriptions } from "./api/subscribe-stream.ts";
import type { AppCallbacks } from "./app/callbacks.ts";
import { AppChannel } from "./app/channel.ts";
import { AppHealthMonitor, type AppHealthSettings, DEFAULT_APP_HEALTH } from "./app/health.ts";
import { type ResolvedHttpEndpoint, resolveHttpEndpoints } from "./components/http-endpoints.ts";
import type { ComponentRegistry } from "./components/registry.ts";
import { unappliedSettings } from "./components/unapplied.ts";
import { GrpcAppChannel } from "./grpc/app-channel.ts";
import { closeRemoteGrpcApps } from "./grpc/app-invoke.ts";
import { anyValueJson } from "./grpc/jobs.ts";
import { closeProxySessions } from "./grpc/proxy.ts";
import { startGrpcApi } from "./grpc/server.ts";
import { taskHubService } from "./grpc/task-hub.ts";
import { hasChanges } from "./hot-reload/diff.ts";
import { HotReloader, hotReloadDisabledBy, type ReloadReport } from "./hot-reload/hot-reloader.ts";
import { apiLoggingConfig } from "./http/api-logging-config.ts";
import { ConnectionGuard, DEFAULT_MAX_CONNECTIONS } from "./http/connections.ts";
import { DEFAULT_MAX_BODY_SIZE } from "./http/limits.ts";
import { createApiHandler } from "./http/server.ts";
import { DEFAULT_GRACEFUL_SHUTDOWN_SECONDS, Drain } from "./lifecycle/drain.ts";
import { createConsoleLogger, type LogLevel } from "./logger.ts";
import { startInputBindings } from "./messaging/input-bindings.ts";
import {
  fromDeclarative,
  mergeSubscriptions,
  Subscriber,
  type Subscription,
  withStreams,
} from "./messaging/subscriptions.ts";
import { httpServerObserver } from "./metrics/http-server-observer.ts";
import { meteredCallbacks } from "./metrics/metered-callbacks.ts";
import { meteredRuntime } from "./metrics/metered-runtime.ts";
import { metricsConfig } from "./metrics/metrics-config.ts";
import { type MetricsServer, startMetricsServer } from "./metrics/metrics-server.ts";
import { pathMatcher } from "./metrics/path-matching.ts";
import { SidecarMetrics } from "./metrics/sidecar-metrics.ts";
import { appInvocationTimeouts } from "./resiliency/app-timeouts.ts";
import { ResiliencyPolicies } from "./resiliency/policies.ts";
import { resilientActorApp } from "./resiliency/resilient-actor-app.ts";
import { resilientCallbacks } from "./resiliency/resilient-callbacks.ts";
import { resilientRuntime } from "./resiliency/resilient-runtime.ts";
import { createRuntime, type Runtime } from "./runtime.ts";
import { defaultSchedulerStore, openSchedulerStore } from "./scheduler/open-store.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { TracedResponse, tracedHttpHandler } from "./tracing/http-tracing.ts";
import { SidecarTracing } from "./tracing/sidecar-tracing.ts";
import { tracedCallbacks } from "./tracing/traced-callbacks.ts";
import { tracingConfig } from "./tracing/tracing-config.ts";
import { DAPR_API_LEVEL, RUNTIME_VERSION } from "./version.ts";
import { workflowLimits } from "./workflows/limits.ts";
import { startWorkflowEngine } from "./workflows/start.ts";

export interface SidecarOptions {
  appId: string;
  appPort?: number;
  /** Default 127.0.0.1. */
  appHost?: string;
  /**
   * How the app is served. `grpc`: the sidecar calls its `dapr.proto.runtime.v1.AppCallback`
   * (OnInvoke, subscriptions, topic events, input bindings) and waits for its
   * AppCallbackHealthCheck before it is ready.
   */
  appProtocol?: "http" | "grpc";
  /** Default 3500; 0 picks a free port. */
  httpPort?: number;
  /**
   * The gRPC API's port (`dapr.proto.runtime.v1.Dapr`). Default 50001 (daprd's), or a free port
   * when `httpPort` is 0, so sidecars started on free ports never collide; 0 picks a free port.
   */
  grpcPort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Serve Prometheus metrics (daprd's `--enable-metrics`, on by default). A Configuration's
   * `spec.metrics.enabled: false` turns them off too.
   */
  enableMetrics?: boolean;
  /**
   * The metrics port (`GET /metrics`). Default 9090 (daprd's), or a free port when `httpPort` is
   * 0, as for `grpcPort`; 0 picks a free port.
   */
  metricsPort?: number;
  resourcesPaths?: string[];
  /** YAML text, for library mode and tests. */
  resources?: string;
  /**
   * Watch `resourcesPaths` and apply changes to components and declarative subscriptions without
   * a restart (Dapr's HotReload, on by default as in Dapr 1.18). A Configuration's feature
   * `HotReload` with `enabled: false` turns it off too.
   */
  hotReload?: boolean;
  /** Default: env DAPR_API_TOKEN. */
  apiToken?: string;
  /** Default: env APP_API_TOKEN. */
  appApiToken?: string;
  appMaxConcurrency?: number;
  /** Messages one streaming subscription may hold unacknowledged (default 100). */
  streamMaxUnacked?: number;
  /**
   * Probe the app (daprd's `--enable-app-health-check`): while it is unhealthy no pub/sub message
   * or input binding event is delivered to it; deliveries start once it is first healthy.
   */
  enableAppHealthCheck?: boolean;
  /** The HTTP path probed with GET (2xx = healthy); default `/healthz`. */
  appHealthCheckPath?: string;
  /** Seconds between probes; default 5. */
  appHealthProbeInterval?: number;
  /** Milliseconds a probe may take; default 500. */
  appHealthProbeTimeout?: number;
  /** Failed probes in a row that make the app unhealthy; default 3. */
  appHealthThreshold?: number;
  enableApiLogging?: boolean;
  logLevel?: LogLevel;
  logger?: Logger;
  /**
   * Finds another app for service invocation (e.g. the CLI's local registry). It returns the
   * address of that app's own server and protocol; invocations go there directly, without a
   * second sidecar. gRPC proxying goes through the app's sidecar (`sidecar`) when given.
   */
  resolveApp?: (appId: string) => Promise<AppAddress | undefined>;
  /** Extra `extended` metadata (appCommand, appPID, cliPID, ...). */
  extendedMetadata?: Record<string, string>;
  /** Default: built from the installed packages' manifests. */
  registry?: ComponentRegistry;
  namespace?: string;
  /** Called on `POST /v1.0/shutdown` instead of stopping the sidecar (the CLI stops the app too). */
  onShutdown?: () => void;
  /**
   * Bytes a request body may have; a larger one is answered 413 `ERR_BODY_TOO_LARGE` and not
   * read further. Default 4 MiB, daprd's `--max-body-size 4Mi`.
   */
  maxBodySize?: number;
  /**
   * On stop, how long calls and deliveries in flight may take to finish before the components
   * close. Default 5, daprd's `--dapr-graceful-shutdown-seconds`.
   */
  gracefulShutdownSeconds?: number;
  /** An invocation fails (500 `ERR_DIRECT_INVOKE`) when the callee sends nothing for this long. Default 60. */
  invocationTimeoutSeconds?: number;
  /**
   * Hosts (`host` or `host:port`) a URL used as app id may name, besides the base URLs of
   * HTTPEndpoint resources. Default none: external invocation only through HTTPEndpoints.
   */
  allowedExternalHosts?: string[];
  /** Connections of the HTTP API at once; idle and unadmitted ones are evicted first. Default 4096. */
  maxConnections?: number;
  /** A request's headers must arrive within this. Default 10000. */
  headersTimeoutMs?: number;
  /** A whole request (headers and body) must arrive within this. Default 60000. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. Default 65000. */
  keepAliveTimeoutMs?: number;
  /**
   * Where the scheduler (Jobs API) keeps its schedules: a SQLite file path, or a `postgres://`
   * connection string; sidecars of one app sharing it fire each tick on exactly one of them.
   * Default: env `OUTRIG_SCHEDULER_STORE`, else `$OUTRIG_HOME/scheduler.db` (`~/.outrig/scheduler.db`).
   */
  schedulerStore?: string;
  /** Scheduler tuning: lease of a claimed tick (default 30000) and store poll (default 1000). */
  schedulerLeaseMs?: number;
  schedulerPollMs?: number;
  /**
   * A lease owner id this sidecar keeps across restarts (scheduler ticks, workflow ownership),
   * so a restarted sidecar takes back at once what its killed predecessor held instead of
   * waiting out `schedulerLeaseMs`. Only for an id no other live sidecar uses (`outrig run` sets
   * `<host>:<outrig home>/<appId>`: it runs one sidecar per app id). Default: a new id each run.
   */
  schedulerOwner?: string;
  /** A workflow turn a worker took and did not answer within this is sent again (default 60000). */
  workflowTurnTimeoutMs?: number;
  /**
   * Where actors live. `local` (the default): this sidecar owns every actor of the types its
   * app hosts. `table`: sidecars sharing the scheduler store (its SQLite file or PostgreSQL
   * database) keep leased membership rows there; each actor has one owner among them
   * (rendezvous hashing) and calls are forwarded to it. Default: env `OUTRIG_ACTOR_PLACEMENT`.
   */
  actorPlacement?: "local" | "table";
  /**
   * Workflow instances this sidecar drives at most (default 10000); sidecars of one app sharing
   * the actor state store and the scheduler store take the rest. A running instance is owned
   * through a scheduler lease (`schedulerLeaseMs`): a dead sidecar's are resumed once it runs out.
   */
  workflowMaxInstances?: number;
}

export interface Sidecar {
  readonly httpPort: number;
  /** The port of the gRPC API. */
  readonly grpcPort: number;
  /** The port serving `GET /metrics`; undefined when metrics are off. */
  readonly metricsPort: number | undefined;
  readonly url: string;
  /** The loaded components, for in-process access beside the HTTP API. */
  readonly runtime: Runtime;
  /** Resolves once the app channel is ready (healthz answers 204); rejects if start-up failed. */
  ready(): Promise<void>;
  /** Drains (see Drain: stop accepting, stop deliveries, wait, close) and closes everything. */
  stop(): Promise<void>;
  /** The shutdown sequence, for other API servers to hook into and track their calls. */
  readonly drain: Drain;
}

let openSidecars = 0;

/** Starts the sidecar; resolves once the HTTP API listens (outbound ready). */
export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const healthSettings = appHealthSettings(options);
  const logger = options.logger ?? createConsoleLogger(options.logLevel ?? "info");
  const runtime = await createRuntime({
    appId: options.appId,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.resources ? { resources: options.resources } : {}),
    ...(options.resourcesPaths ? { resourcesPaths: options.resourcesPaths } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    logger,
  });
  let metricsSettings: ReturnType<typeof metricsConfig>;
  try {
    metricsSettings = metricsConfig(runtime.resources.configurations);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const pathLabel = pathMatcher(metricsSettings.pathMatching, metricsSettings.increasedCardinality);
  const metrics =
    options.enableMetrics !== false && metricsSettings.enabled
      ? new SidecarMetrics(options.appId, options.namespace ?? "", {
          ...(metricsSettings.latencyBuckets
            ? { latencyBuckets: metricsSettings.latencyBuckets }
            : {}),
          rules: metricsSettings.rules,
          recordErrorCodes: metricsSettings.recordErrorCodes,
          excludeVerbs: metricsSettings.excludeVerbs,
          ...(pathLabel ? { pathLabel } : {}),
        })
      : undefined;
  if (metrics) {
    for (const c of runtime.components) metrics.componentLoaded(c.name);
    for (const r of runtime.resources.resiliencies) metrics.resiliencyLoaded(r.name);
  }
  const policies = await ResiliencyPolicies.load(
    runtime.resources.resiliencies,
    options.appId,
    logger,
    metrics,
  ).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  const apiRuntime = policies.empty ? runtime : resilientRuntime(runtime, policies);
  // The HTTPEndpoints in scope, their secrets read: at start, and again after hot reload.
  const resolveEndpoints = () =>
    resolveHttpEndpoints(
      runtime.resources.httpEndpoints.filter(
        (e) => e.scopes.length === 0 || e.scopes.includes(options.appId),
      ),
      async (store, name, key) => {
        if (!runtime.has("secretstores", store))
          throw new Error(`secret store ${store} is not loaded`);
        return (await runtime.secretStore(store).get(name))?.[key];
      },
    );
  const warnUnappliedEndpointFields = (list: readonly ResolvedHttpEndpoint[]) => {
    for (const e of list) {
      if (e.unsupported.length > 0) {
        logger.warn("HTTPEndpoint fields are not applied", { name: e.name, fields: e.unsupported });
      }
    }
  };
  let endpoints: ResolvedHttpEndpoint[];
  try {
    endpoints = await resolveEndpoints();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  let tracingSettings: ReturnType<typeof tracingConfig>;
  try {
    tracingSettings = tracingConfig(runtime.resources.configurations);
  } catch (error) {
    await runtime.close();
    throw error;
  }
  // Sampling at 0 makes no span at all, so tracing off costs one check per request.
  const tracing =
    tracingSettings.samplingRate > 0
      ? new SidecarTracing(options.appId, tracingSettings, logger)
      : undefined;
  for (const f of [...metricsSettings.unapplied, ...tracingSettings.unapplied]) {
    logger.warn(`Configuration setting not applied yet: ${f.field}`, {
      kind: "Configuration",
      ...f,
    });
  }
  const appHost = options.appHost ?? "127.0.0.1";
  const app =
    options.appPort && options.appPort > 0
      ? new AppChannel({
          host: appHost,
          port: options.appPort,
          token: options.appApiToken ?? process.env.APP_API_TOKEN,
          maxConcurrency: options.appMaxConcurrency,
          observe: metrics ? (...args) => metrics.httpClient(...args) : undefined,
          logger,
        })
      : undefined;
  const grpcApp =
    app && options.appProtocol === "grpc"
      ? new GrpcAppChannel(appHost, app.port, app.token, { limit: app.limit, logger })
      : undefined;
  const appHealth =
    app && healthSettings
      ? new AppHealthMonitor(
          grpcApp
            ? (timeoutMs) => grpcApp.healthCheck(timeoutMs)
            : (timeoutMs) => app.probe(healthSettings.path, timeoutMs),
          healthSettings,
          logger,
        )
      : undefined;
  /** Deliveries and discovery go over the app's own protocol; their semantics do not. */
  const channel: AppCallbacks | undefined = grpcApp ?? app;
  // Deliveries go through the inbound Resiliency policies, then the ingress metrics.
  const resilientDeliveries =
    channel && !policies.empty ? resilientCallbacks(channel, policies) : channel;
  const meteredDeliveries =
    resilientDeliveries && metrics
      ? meteredCallbacks(resilientDeliveries, metrics)
      : resilientDeliveries;
  // Outermost: one delivery span covers all the retries of the delivery.
  const callbacks =
    meteredDeliveries && tracing ? tracedCallbacks(meteredDeliveries, tracing) : meteredDeliveries;
  const schedulerLocation =
    options.schedulerStore ?? process.env.OUTRIG_SCHEDULER_STORE ?? defaultSchedulerStore();
  /** The location as errors and the metadata show it: a connection string's password hidden. */
  const shownLocation = schedulerLocation.replace(/\/\/[^@/]*@/, "//***@");
  const scheduler = new Scheduler({
    store: await openSchedulerStore(schedulerLocation).catch(async (error: unknown) => {
      await runtime.close();
      throw new Error(
        `cannot open the scheduler store ${shownLocation}: ${(error as Error).message}`,
        { cause: error },
      );
    }),
    logger,
    ...(options.schedulerLeaseMs ? { leaseMs: options.schedulerLeaseMs } : {}),
    ...(options.schedulerPollMs ? { pollMs: options.schedulerPollMs } : {}),
    ...(options.schedulerOwner ? { owner: options.schedulerOwner } : {}),
  });
  let actorStore: ReturnType<typeof findActorStateStore>;
  let placement: ActorPlacement;
  /** Where other sidecars reach this one's HTTP API; the port is known once it listens. */
  const advertised = { host: advertisedHost(options.host), port: 0 };
  try {
    actorStore = findActorStateStore(runtime);
    placement = await actorPlacement(
      options,
      { location: schedulerLocation, shown: shownLocation },
      () => advertised,
      logger,
    );
  } catch (error) {
    await scheduler.close();
    await runtime.close();
    throw error;
  }
  const forwarder =
    placement instanceof TablePlacement
      ? new ActorForwarder(options.apiToken ?? process.env.DAPR_API_TOKEN)
      : undefined;
  const enabledFeatures = runtime.resources.configurations.flatMap((c) =>
    (c.spec.features ?? []).filter((f) => f.enabled).map((f) => f.name),
  );
  const workflows = await startWorkflowEngine(runtime, scheduler, {
    stateStore: actorStore?.name,
    appId: options.appId,
    namespace: options.namespace,
    logger,
    turnTimeoutMs: options.workflowTurnTimeoutMs,
    maxConcurrent: workflowLimits(runtime.resources.configurations),
    maxInstances: options.workflowMaxInstances,
  }).catch(async (error: unknown) => {
    await scheduler.close();
    await runtime.close();
    throw error;
  });
  const health = { outbound: false, ready: false };
  const extended: Record<string, string> = { ...options.extendedMetadata };
  const abort = new AbortController();
  let subscriber: Subscriber | undefined;
  let subscriptions: Subscription[] = [];
  /** Moves deliveries to what hot reload changed; set once they run. */
  let redeliver: ((inputBindings: boolean) => Promise<void>) | undefined;
  let streams: StreamingSubscriptions | undefined;
  let stopped: Promise<void> | undefined;

  const metadata = (): Record<string, unknown> => ({
    id: options.appId,
    runtimeVersion: RUNTIME_VERSION,
    enabledFeatures,
    actors: actors.status().activeActors,
    components: runtime.components.map((c) => ({
      name: c.name,
      type: c.type,
      version: c.version,
      capabilities: c.capabilities,
    })),
    httpEndpoints: (ctx.invocation?.endpoints ?? []).map((e) => ({ name: e.name })),
    actorRuntime: actors.status(),
    subscriptions: withStreams(subscriptions, streams?.list() ?? []).map((s) => ({
      pubsubname: s.pubsubname,
      topic: s.topic,
      ...(Object.keys(s.metadata).length > 0 ? { metadata: s.metadata } : {}),
      rules: s.rules.map((r) => ({ ...(r.match ? { match: r.match } : {}), path: r.path })),
      deadLetterTopic: s.deadLetterTopic ?? "",
      type: s.type,
    })),
    extended: { daprRuntimeVersion: DAPR_API_LEVEL, ...extended },
    appConnectionProperties: {
      ...(options.appPort ? { port: options.appPort } : {}),
      protocol: options.appProtocol ?? "http",
      channelAddress: appHost,
      ...(options.appMaxConcurrency ? { maxConcurrency: options.appMaxConcurrency } : {}),
      ...(healthSettings
        ? {
            health: {
              ...(grpcApp ? {} : { healthCheckPath: healthSettings.path }),
              healthProbeInterval: `${healthSettings.intervalMs / 1000}s`,
              healthProbeTimeout: `${healthSettings.timeoutMs}ms`,
              healthThreshold: healthSettings.threshold,
              // Beyond daprd's document: what the prober last concluded.
              status: appHealth?.status ?? "unknown",
            },
          }
        : {}),
    },
  });

  const drain = new Drain(
    (options.gracefulShutdownSeconds ?? DEFAULT_GRACEFUL_SHUTDOWN_SECONDS) * 1000,
    logger,
  );
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await drain.run();
      if (--openSidecars === 0) {
        await closeRemotePools();
        closeRemoteGrpcApps();
        closeProxySessions();
        closeExternalPools();
      }
      logger.info("sidecar stopped", { appId: options.appId });
    })();
    return stopped;
  };

  const configurationSubscriptions = new ConfigurationSubscriptions((fn) => drain.track(fn));
  streams = new StreamingSubscriptions(
    new Subscriber(runtime, undefined, logger, (fn) => drain.track(fn)),
    logger,
    options.streamMaxUnacked,
    tracing,
  );
  const outbox = new Outbox(runtime, logger, (fn) => drain.track(fn));
  const invocationTimeoutMs =
    (options.invocationTimeoutSeconds ?? DEFAULT_INVOCATION_TIMEOUT_MS / 1000) * 1000;
  const actorStateOf = (found: typeof actorStore) =>
    found
      ? new ActorState(found.store, options.appId, enabledFeatures.includes("ActorStateTTL"))
      : undefined;
  let actorState = actorStateOf(actorStore);
  // Dapr's AppCallback has no actor callbacks: only an HTTP app hosts actors. The actor runtime
  // calls the app inside each turn; the actor Resiliency policies wrap those calls.
  const actorApp = app && !grpcApp ? httpActorApp(app) : undefined;
  const actors = new ActorRuntime({
    appId: options.appId,
    namespace: options.namespace ?? "default",
    logger,
    app: actorApp && !policies.empty ? resilientActorApp(actorApp, policies) : actorApp,
    placement,
    forwarder,
    scheduler,
    state: () => actorState,
    callTimeoutMs: invocationTimeoutMs,
    track: (fn) => drain.track(fn),
  });
  const ctx: ApiContext = {
    outbox,
    streams,
    runtime: metrics ? meteredRuntime(apiRuntime, metrics) : apiRuntime,
    configurationSubscriptions,
    appId: options.appId,
    logger,
    app,
    grpcApp,
    scheduler,
    actors,
    workflows,
    resolveApp: options.resolveApp,
    health,
    extended,
    metadata,
    shutdown: () => {
      if (options.onShutdown) options.onShutdown();
      else void stop();
    },
    invocation: {
      timeoutMs: invocationTimeoutMs,
      endpoints,
      allowedHosts: options.allowedExternalHosts ?? [],
      appTimeoutsMs: appInvocationTimeouts(runtime.resources.resiliencies, options.appId),
      ...(policies.empty ? {} : { appPolicy: (id: string) => policies.app(id) }),
    },
    spans: tracing?.buffer,
  };
  for (const setting of unappliedSettings(runtime.resources)) {
    const value = setting.value ? ` (${setting.value})` : "";
    logger.warn(`${setting.kind} setting not applied yet: ${setting.field}${value}`, {
      ...setting,
    });
  }
  warnUnappliedEndpointFields(endpoints);
  let cap: ConnectionGuard | undefined;
  const apiLogging = apiLoggingConfig(runtime.resources.configurations);
  const access = apiAccess(runtime.resources.configurations);
  const httpObserver = metrics
    ? httpServerObserver(metrics, {
        pathMatching: pathLabel !== undefined,
        increasedCardinality: metricsSettings.increasedCardinality,
      })
    : undefined;
  const api = createApiHandler(ctx, {
    apiToken: options.apiToken ?? process.env.DAPR_API_TOKEN,
    // As daprd: the flag, when given, wins over the Configuration's default.
    enableApiLogging: options.enableApiLogging ?? apiLogging.enabled,
    apiLogging,
    maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
    onAdmitted: (req, res) => cap?.admit(req, res),
    onRouted: httpObserver?.onRouted,
    access,
  });
  const handler = tracing ? tracedHttpHandler(api, tracing) : api;
  const closed = httpObserver?.closed;
  const limits = {
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 65_000,
  };
  const answering = new Set<ServerResponse>();
  const server: Server = createServer(
    {
      ...(tracing ? { ServerResponse: TracedResponse } : {}),
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // node's own checks stay on as a second line; ConnectionGuard enforces the limits.
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    },
    (req, res) => {
      const end = drain.begin();
      answering.add(res);
      const began = closed ? performance.now() : 0;
      // One listener does all a closing response needs (close fires once, so `on`, not `once`'s
      // wrapper): its metrics, its span, the drain's count.
      res.on("close", () => {
        closed?.(req, res, began);
        if (tracing) (res as TracedResponse).endTrace();
        answering.delete(res);
        end();
      });
      // While draining, a request on a kept-alive connection is still served, but its
      // connection closes after the answer, so clients move off before the components close.
      if (drain.draining) res.shouldKeepAlive = false;
      handler(req, res);
    },
  );
  cap = new ConnectionGuard(server, limits);
  drain.on("accept", () => {
    for (const res of answering) if (!res.headersSent) res.shouldKeepAlive = false;
    server.close();
    server.closeIdleConnections();
  });
  let stopJobs: (() => void) | undefined;
  drain.on("sources", async () => {
    abort.abort();
    subscriber?.stop();
    streams?.stop();
    outbox.stop();
    stopJobs?.();
    workflows?.close();
    await Promise.all([
      configurationSubscriptions.closeAll(),
      actors.stop(drain.gracefulShutdownMs),
    ]);
  });
  drain.on("force", () => server.closeAllConnections());
  drain.on("close", async () => {
    forwarder?.close();
    await scheduler.close();
    await app?.close();
    await grpcApp?.close();
    await runtime.close();
    // Last, so the spans of the calls that drained are exported too.
    await tracing?.shutdown();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.httpPort ?? 3500, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await scheduler.close();
    await runtime.close();
    throw error;
  });
  const grpc = await startGrpcApi(
    ctx,
    options.host ?? "127.0.0.1",
    options.grpcPort ?? (options.httpPort === 0 ? 0 : 50001),
    {
      apiToken: options.apiToken ?? process.env.DAPR_API_TOKEN,
      maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
      drain,
      services: [taskHubService(workflows)],
      onCompleted: metrics ? (...args) => metrics.grpcServer(...args) : undefined,
      onErrorCode: metrics?.recordsErrorCodes ? (code) => metrics.errorCode(code) : undefined,
      tracing,
      access,
    },
  ).catch(async (error: unknown) => {
    server.close();
    await scheduler.close();
    await runtime.close();
    throw error;
  });
  let metricsServer: MetricsServer | undefined;
  if (metrics) {
    metricsServer = await startMetricsServer(
      metrics.registry,
      options.host ?? "127.0.0.1",
      options.metricsPort ?? (options.httpPort === 0 ? 0 : 9090),
    ).catch(async (error: unknown) => {
      server.close();
      grpc.close();
      await runtime.close();
      throw new Error(`cannot serve metrics: ${(error as Error).message}`, { cause: error });
    });
    const served = metricsServer;
    drain.on("close", () => served.close());
  }
  openSidecars++;
  health.outbound = true;
  outbox.start();
  const httpPort = (server.address() as AddressInfo).port;
  advertised.port = httpPort;
  logger.info("HTTP API listening", { port: httpPort, appId: options.appId });
  logger.info("gRPC API listening", { port: grpc.port, appId: options.appId });
  if (metricsServer)
    logger.info("metrics server listening", { port: metricsServer.port, appId: options.appId });

  // Jobs fire once the app is reachable, as daprd connects to the scheduler after the app channel.
  const startJobs = (): void => {
    if (abort.signal.aborted) return;
    const deliver = jobTrigger(ctx, {
      timeoutMs: scheduler.triggerTimeoutMs,
      valueJson: anyValueJson,
      tracing,
    });
    stopJobs = scheduler.handle(jobPrefix(ctx), (trigger, signal) =>
      drain.track(() => deliver(trigger, signal)),
    );
  };
  // Declarative subscriptions are read from the runtime each time: hot reload changes them.
  const declarative = () => runtime.subscriptions.map(fromDeclarative);
  const appReady = (async () => {
    if (!callbacks) {
      await actors.start(abort.signal);
      subscriptions = declarative();
      health.ready = true;
      return;
    }
    await callbacks.ready(abort.signal);
    logger.info("app channel connected", {
      port: options.appPort,
      protocol: callbacks.protocol,
    });
    // As daprd: the app's actor types are read before its subscriptions.
    await actors.start(abort.signal);
    const programmatic = await callbacks.subscriptions(abort.signal);
    let bindings: AbortController | undefined;
    const subscribe = async (): Promise<void> => {
      subscriber = new Subscriber(runtime, callbacks, logger, (fn) => drain.track(fn));
      await subscriber.start(mergeSubscriptions(declarative(), programmatic, logger));
      subscriptions = subscriber.active;
    };
    const readBindings = async (): Promise<void> => {
      bindings = new AbortController();
      await startInputBindings(
        runtime,
        callbacks,
        logger,
        AbortSignal.any([abort.signal, bindings.signal]),
        (fn) => drain.track(fn),
      );
    };
    const deliver = async (): Promise<void> => {
      await subscribe();
      await readBindings();
    };
    // Paused (app unhealthy) deliveries need nothing: resuming reads the current resources.
    redeliver = async (inputBindings) => {
      if (!subscriber || abort.signal.aborted) return;
      subscriber.stop();
      await subscribe();
      if (inputBindings) {
        bindings?.abort();
        await readBindings();
      }
    };
    // As daprd: an unhealthy app is unsubscribed from its topics and its input bindings stop
    // reading, so brokers keep the messages instead of the sidecar failing them one by one.
    const pause = async (): Promise<void> => {
      subscriber?.stop();
      subscriber = undefined;
      bindings?.abort();
      bindings = undefined;
    };
    if (appHealth) {
      void appHealth.run(abort.signal, (status) => (status === "healthy" ? deliver() : pause()));
    } else {
      await deliver();
    }
    health.ready = true;
    logger.info("dapr initialized. Status: Running", { appId: options.appId });
  })();
  appReady.then(startJobs, () => undefined);
  const reloadOff =
    options.hotReload === false
      ? "hotReload: false"
      : hotReloadDisabledBy(runtime.resources.configurations, options.appId);
  if (options.resourcesPaths?.length && reloadOff) {
    logger.info("hot reload is off", {
      by:
        typeof reloadOff === "string"
          ? reloadOff
          : `Configuration ${reloadOff.name} (features.HotReload)`,
    });
  } else if (options.resourcesPaths?.length) {
    const reloader = new HotReloader(runtime, {
      logger,
      drainTimeoutMs: drain.gracefulShutdownMs,
      onReload: async (report: ReloadReport) => {
        for (const c of report.components)
          if (c.change !== "removed") metrics?.componentLoaded(c.name);
        for (const f of report.failures) metrics?.componentInitFailed(f.name, "init");
        const changed = (kind: string) => report.components.some((c) => c.kind === kind);
        if (changed("state")) {
          outbox.refresh();
          try {
            actorState = actorStateOf(findActorStateStore(runtime));
          } catch (error) {
            actorState = undefined;
            logger.error("no actor state store after the reload", {
              error: (error as Error).message,
            });
          }
        }
        for (const c of report.components)
          if (c.kind === "pubsub" && c.change !== "added") await streams?.resubscribe(c.name);
        if (ctx.invocation && hasChanges(report.httpEndpoints)) {
          try {
            ctx.invocation.endpoints = await resolveEndpoints();
            warnUnappliedEndpointFields(ctx.invocation.endpoints);
            logger.info("HTTPEndpoints reloaded", {
              names: ctx.invocation.endpoints.map((e) => e.name),
            });
          } catch (error) {
            logger.error(
              `hot reload: HTTPEndpoints not applied, the running ones are kept: ${(error as Error).message}`,
            );
          }
        }
        if (changed("pubsub") || changed("bindings") || hasChanges(report.subscriptions)) {
          if (!callbacks) subscriptions = declarative();
          await redeliver?.(changed("bindings"));
        }
      },
    });
    drain.on("sources", () => reloader.close());
    await reloader.watch().catch((error: unknown) => {
      logger.warn("hot reload not started", { error: (error as Error).message });
    });
  }
  appReady.catch((error: unknown) => {
    if (!abort.signal.aborted)
      logger.error("app channel start-up failed", { error: (error as Error).message });
  });

  return {
    httpPort,
    grpcPort: grpc.port,
    metricsPort: metricsServer?.port,
    url: `http://${options.host ?? "127.0.0.1"}:${httpPort}`,
    runtime,
    ready: () => appReady,
    stop,
    drain,
  };
}

/** The app health check settings, when enabled; a bad value fails the start naming it. */
function appHealthSettings(options: SidecarOptions): AppHealthSettings | undefined {
  if (!options.enableAppHealthCheck) return undefined;
  const positive = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`${name} must be a positive number, got ${value}`);
    return value;
  };
  return {
    path: options.appHealthCheckPath || DEFAULT_APP_HEALTH.path,
    intervalMs:
      positive(
        options.appHealthProbeInterval,
        "appHealthProbeInterval",
        DEFAULT_APP_HEALTH.intervalMs / 1000,
      ) * 1000,
    timeoutMs: positive(
      options.appHealthProbeTimeout,
      "appHealthProbeTimeout",
      DEFAULT_APP_HEALTH.timeoutMs,
    ),
    threshold: Math.ceil(
      positive(options.appHealthThreshold, "appHealthThreshold", DEFAULT_APP_HEALTH.threshold),
    ),
  };
}

/** The address other sidecars forward actor calls to: the API's host, loopback for a wildcard. */
function advertisedHost(host: string | undefined): string {
  return !host || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
}

/** The placement the options (or env OUTRIG_ACTOR_PLACEMENT) name; see SidecarOptions.actorPlacement. */
async function actorPlacement(
  options: SidecarOptions,
  scheduler: { location: string; shown: string },
  address: () => { host: string; port: number },
  logger: Logger,
): Promise<ActorPlacement> {
  const kind = options.actorPlacement ?? process.env.OUTRIG_ACTOR_PLACEMENT ?? "local";
  if (kind === "local") return new LocalPlacement();
  if (kind !== "table") {
    throw new Error(`actor placement ${JSON.stringify(kind)} is not known (local or table)`);
  }
  const shown = scheduler.shown;
  const store = await openMembershipStore(scheduler.location, options.namespace ?? "default").catch(
    (error: unknown) => {
      throw new Error(`cannot open the actor placement table in ${shown}: ${errorMessage(error)}`, {
        cause: error,
      });
    },
  );
  if (!store) {
    throw new Error(
      "actor placement table needs a scheduler store other sidecars can share (a file or postgres://), not :memory:",
    );
  }
  return new TablePlacement({ store, appId: options.appId, address, logger, storeName: shown });
}
