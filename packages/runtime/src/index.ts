export type { AppChannelOptions } from "./app-channel.ts";
export {
  buildEnvelope,
  isBinaryContentType,
  isJsonContentType,
  wrapRawPayload,
} from "./cloudevents.ts";
export type { ApiOperation } from "./http/errors.ts";
export { ERROR_TABLE, mapError } from "./http/errors.ts";
export type { LogLevel } from "./logger.ts";
export { createConsoleLogger } from "./logger.ts";
export type { AnyComponentDefinition, ComponentRegistry, RegistryOptions } from "./registry.ts";
export { CATALOG, createRegistry } from "./registry.ts";
export { resolveComponentMetadata } from "./resources/metadata.ts";
export type {
  ComponentResource,
  ConfigurationResource,
  ResiliencyResource,
  ResourceSource,
  Resources,
  SubscriptionResource,
  SubscriptionRule,
} from "./resources/model.ts";
export { loadResources, mergeResources, parseResources } from "./resources/parse.ts";
export { compileRules, routeEvent } from "./routing.ts";
export type {
  LoadedComponent,
  LoadedKind,
  PublishOptions,
  Runtime,
  RuntimeOptions,
} from "./runtime.ts";
export { createRuntime } from "./runtime.ts";
export type { SecretStore, SecretStoreDefinition } from "./secretstores.ts";
export { envSecretStoreDefinition, fileSecretStoreDefinition } from "./secretstores.ts";
export type { Sidecar, SidecarOptions } from "./sidecar.ts";
export { startSidecar } from "./sidecar.ts";
export { keyPrefixFor, PrefixedStateStore } from "./state-keys.ts";
export type { Subscription, SubscriptionType } from "./subscriptions.ts";
export { readOutcome } from "./subscriptions.ts";
