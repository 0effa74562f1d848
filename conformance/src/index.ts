export type {
  BindingConformanceConfig,
  BindingSuiteContext,
  InputFailureGuarantee,
} from "./bindings/index.ts";
export {
  BINDING_CASES,
  describeBindingConformance,
  eventPayload as bindingEventPayload,
  parseEventPayload as parseBindingEventPayload,
} from "./bindings/index.ts";
export type {
  BurstDelivery,
  ConfigurationConformanceConfig,
  ConfigurationSuiteContext,
} from "./configuration/index.ts";
export {
  CONFIGURATION_CASES,
  createConfigurationContext,
  describeConfigurationGet,
  describeConfigurationReconnect,
  describeConfigurationStoreConformance,
  describeConfigurationSubscribe,
} from "./configuration/index.ts";
export type { ConversationConformanceConfig } from "./conversation/index.ts";
export { CONVERSATION_CASES, describeConversationConformance } from "./conversation/index.ts";
export type {
  CryptoCase,
  CryptoCaseId,
  CryptoConformanceConfig,
  CryptoConformanceKeys,
} from "./crypto/index.ts";
export { CRYPTO_CASES, describeCryptoProviderConformance } from "./crypto/index.ts";
export type {
  LockCaseId,
  LockConformanceConfig,
  LockConformanceOptions,
  LockSuiteContext,
} from "./lock/index.ts";
export {
  createLockContext as createLockSuiteContext,
  describeLockBadInput,
  describeLockBasics,
  describeLockDurability,
  describeLockExclusion,
  describeLockExpiry,
  describeLockLifecycle,
  describeLockOwnership,
  describeLockStoreConformance,
  LOCK_CASES,
} from "./lock/index.ts";
export type { MessageTtlStrategy, PubSubConformanceConfig } from "./pubsub/index.ts";
export { describePubSubConformance, PUBSUB_CASES } from "./pubsub/index.ts";
export type {
  SidecarBindingConfig,
  SidecarComponent,
  SidecarConformanceConfig,
  SidecarOutputCall,
  SidecarPubSubConfig,
  SidecarStateConfig,
  SidecarUnderTest,
  StartSidecar,
  StartSidecarOptions,
} from "./sidecar/index.ts";
export { describeSidecarConformance } from "./sidecar/index.ts";
export type {
  StreamedEvent,
  StreamingSidecar,
  StreamingSubscriptionConformanceConfig,
  TopicEventsStream,
} from "./sidecar/streaming.ts";
export { describeStreamingSubscriptionConformance } from "./sidecar/streaming.ts";
export type {
  StateConformanceConfig,
  StateConformanceOptions,
  StateSuiteContext,
} from "./state/index.ts";
export {
  createContext as createStateSuiteContext,
  describeBulk as describeStateBulk,
  describeCrud as describeStateCrud,
  describeDeleteWithPrefix as describeStateDeleteWithPrefix,
  describeEtag as describeStateEtag,
  describeFirstWrite as describeStateFirstWrite,
  describeKeysLike as describeStateKeysLike,
  describeLifecycle as describeStateLifecycle,
  describeQuery as describeStateQuery,
  describeStateStoreConformance,
  describeTransactions as describeStateTransactions,
  describeTtl as describeStateTtl,
} from "./state/index.ts";
