export type { AppAddress, InvocationSettings } from "./api/context.ts";
export type {
  ApiErrorEntry,
  ApiErrorKind,
  ApiErrorParams,
  ApiOperation,
  GrpcStatusCode,
} from "./api/errors.ts";
export {
  API_ERRORS,
  ApiError,
  apiError,
  ERROR_INFO_DOMAIN,
  ERROR_TABLE,
  fromComponentError,
  GrpcStatus,
  isApiError,
  mapError,
  UNIMPLEMENTED_APIS,
  unimplementedApiOf,
  unimplementedKindOf,
} from "./api/errors.ts";
export { DEFAULT_INVOCATION_TIMEOUT_MS } from "./api/invoke.ts";
export { MAX_JSON_DEPTH } from "./api/json.ts";
export { MAX_TRANSACTION_OPERATIONS } from "./api/state.ts";
export type { AppChannelOptions } from "./app/channel.ts";
export { readOutcome } from "./app/channel.ts";
export type { LoadedComponent, LoadedKind } from "./components/loader.ts";
export { lockKeyPrefixFor, PrefixedLockStore } from "./components/lock-keys.ts";
export type {
  AnyComponentDefinition,
  ComponentRegistry,
  RegistryOptions,
} from "./components/registry.ts";
export { CATALOG, CATALOG_ALIASES, createRegistry } from "./components/registry.ts";
export type { SecretStore, SecretStoreDefinition } from "./components/secretstores.ts";
export { envSecretStoreDefinition, fileSecretStoreDefinition } from "./components/secretstores.ts";
export { keyPrefixFor, PrefixedStateStore } from "./components/state-keys.ts";
export { type DaprProtos, daprProtos } from "./grpc/protos.ts";
export type { Diff } from "./hot-reload/diff.ts";
export type { HotReloadOptions, ReloadReport } from "./hot-reload/hot-reloader.ts";
export { HotReloader, hotReloadDisabledBy } from "./hot-reload/hot-reloader.ts";
export type { ComponentChange, ComponentFailure } from "./hot-reload/reconcile.ts";
export { DEFAULT_MAX_CONNECTIONS } from "./http/connections.ts";
export { DEFAULT_MAX_BODY_SIZE } from "./http/limits.ts";
export { DEFAULT_GRACEFUL_SHUTDOWN_SECONDS, Drain } from "./lifecycle/drain.ts";
export type { LogFormat, LoggerOptions, LogLevel } from "./logger.ts";
export { createConsoleLogger, createLogger } from "./logger.ts";
export {
  buildEnvelope,
  isBinaryContentType,
  isJsonContentType,
  wrapRawPayload,
} from "./messaging/cloudevent.ts";
export { compileRules, routeEvent } from "./messaging/routing.ts";
export type { Subscription, SubscriptionType } from "./messaging/subscriptions.ts";
export { resolveComponentMetadata } from "./resources/metadata.ts";
export type {
  ComponentResource,
  ConfigurationResource,
  HttpEndpointResource,
  ResiliencyResource,
  ResourceSource,
  Resources,
  SubscriptionResource,
  SubscriptionRule,
} from "./resources/model.ts";
export { loadResources, mergeResources, parseResources } from "./resources/parse.ts";
export { megabytesToBytes, parseQuantity } from "./resources/quantity.ts";
export type { PublishOptions, Runtime, RuntimeOptions } from "./runtime.ts";
export { createRuntime } from "./runtime.ts";
export { defaultSchedulerStore, openSchedulerStore } from "./scheduler/open-store.ts";
export type {
  ScheduledJob,
  SchedulerOptions,
  Trigger,
  TriggerHandler,
} from "./scheduler/scheduler.ts";
export { JobExistsError, Scheduler } from "./scheduler/scheduler.ts";
export type { FailurePolicy, ScheduleSpec } from "./scheduler/spec.ts";
export { ScheduleSpecError } from "./scheduler/spec.ts";
export type { SchedulerStore, StoredJob } from "./scheduler/store.ts";
export type { Sidecar, SidecarOptions } from "./sidecar.ts";
export { startSidecar } from "./sidecar.ts";
export type { SpanRecord } from "./tracing/span-buffer.ts";
export { DAPR_API_LEVEL, RUNTIME_VERSION } from "./version.ts";
