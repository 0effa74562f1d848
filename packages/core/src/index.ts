export type {
  BindingDirection,
  BindingEvent,
  BindingHandler,
  InputBinding,
  InvokeRequest,
  InvokeResponse,
  OutputBinding,
} from "./bindings.ts";
export {
  BINDING_DIRECTIONS,
  isInputBinding,
  isOutputBinding,
  STANDARD_OPERATIONS,
} from "./bindings.ts";
export type {
  Component,
  ComponentContext,
  ComponentFactory,
  ComponentKind,
  Logger,
} from "./component.ts";
export { silentLogger } from "./component.ts";
export type {
  ConfigurationHandler,
  ConfigurationItem,
  ConfigurationStore,
  ConfigurationUpdate,
} from "./configuration.ts";
export {
  DEFAULT_UPDATE_QUEUE_LIMIT,
  isConfigurationStore,
  UpdateQueue,
} from "./configuration.ts";
export type {
  ConversationCapability,
  ConversationChoice,
  ConversationMessage,
  ConversationOutput,
  ConversationProvider,
  ConversationRequest,
  ConversationResponse,
  ConversationRole,
  ConversationTool,
  ConversationToolCall,
  ConversationUsage,
} from "./conversation.ts";
export {
  BaseConversation,
  CONVERSATION_CAPABILITIES,
  CONVERSATION_ROLES,
  isConversationProvider,
  messageText,
} from "./conversation.ts";
export type {
  CryptoProvider,
  KeyWrapAlgorithm,
  PublicJwk,
  UnwrapKeyRequest,
  WrapKeyRequest,
} from "./crypto.ts";
export { KEY_WRAP_ALGORITHMS, KEY_WRAP_ALIASES } from "./crypto.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export type { EncodedValue, ValueKind } from "./encoding.ts";
export {
  bytesEqual,
  decodeJson,
  decodeStateValue,
  encodeStateValue,
  encodeValue,
  jsonText,
  toBytes,
  tryDecodeJson,
  utf8,
  valueKind,
} from "./encoding.ts";
export type {
  EnvelopeCipher,
  EnvelopeFailure,
  EnvelopeManifest,
  OpenOptions,
  SealOptions,
} from "./envelope.ts";
export {
  ENVELOPE_CIPHERS,
  ENVELOPE_SCHEME,
  EnvelopeError,
  envelopeCipher,
  keyWrapAlgorithm,
  MAX_HEADER_SIZE,
  MAX_SEGMENTS,
  openEnvelope,
  SEGMENT_OVERHEAD,
  SEGMENT_SIZE,
  sealEnvelope,
} from "./envelope.ts";
export type { ComponentErrorOptions, ConfigIssue, ErrorCode, ETagErrorKind } from "./errors.ts";
export {
  BulkError,
  BulkItemError,
  ComponentError,
  ConfigError,
  ERROR_CODES,
  ETagError,
  errorMessage,
  isComponentError,
  notSupported,
} from "./errors.ts";
export {
  isDirectChild,
  keysLikeEmptyPatternError,
  likePatternToRegExp,
  normalizeDeletePrefix,
  prefixRequiredError,
} from "./keys-like.ts";
export type {
  LockStore,
  TryLockRequest,
  TryLockResponse,
  UnlockRequest,
  UnlockResponse,
  UnlockStatus,
} from "./lock.ts";
export {
  MAX_LOCK_EXPIRY_SECONDS,
  UNLOCK_STATUS,
  validateTryLock,
  validateUnlock,
} from "./lock.ts";
export type {
  BindingDefinition,
  ComponentDefinition,
  ComponentStatus,
  ConfigurationStoreDefinition,
  ConversationDefinition,
  CryptoProviderDefinition,
  LockStoreDefinition,
  PackageManifest,
  PubSubDefinition,
  StateStoreDefinition,
} from "./manifest.ts";
export { defineManifest } from "./manifest.ts";
export type { Metadata } from "./metadata.ts";
export { getMetadata, isTruthy, parseTtlInSeconds, ttlExpireTimeMetadata } from "./metadata.ts";
export type {
  OptionField,
  OptionFields,
  OptionsInput,
  OptionsSchema,
  ParsedOptions,
} from "./options.ts";
export { defineOptions, option } from "./options.ts";
export type {
  BulkMessage,
  BulkMessageHandler,
  BulkPublishEntry,
  BulkPublishRequest,
  BulkPublishResponse,
  BulkSubscribeRequest,
  MessageHandler,
  PublishRequest,
  PubSub,
  PubSubCapability,
  PubSubMessage,
  SubscribeRequest,
} from "./pubsub.ts";
export {
  BasePubSub,
  bulkPublishOneByOne,
  bulkSubscribeByBatching,
  PUBSUB_CAPABILITIES,
} from "./pubsub.ts";
export type { FilterNode, Query, QueryComparison, QueryFilter, QuerySort } from "./query.ts";
export { compareJson, matchesFilter, parseFilter, valueAtPath } from "./query.ts";
export type {
  BulkGetItem,
  BulkOptions,
  Concurrency,
  Consistency,
  DeleteRequest,
  GetRequest,
  GetResponse,
  KeysLikeRequest,
  KeysLikeResponse,
  QueryRequest,
  QueryResponse,
  QueryResultItem,
  SetRequest,
  StateCapability,
  StateOptions,
  StateStore,
  TransactionOperation,
  TransactionRequest,
} from "./state.ts";
export {
  BaseStateStore,
  hasEtag,
  mapWithParallelism,
  STATE_CAPABILITIES,
  throwBulkFailures,
  toBulkGetItem,
  validateStateOptions,
} from "./state.ts";
