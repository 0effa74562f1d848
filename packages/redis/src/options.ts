import { defineOptions, option } from "@outrig/core";

/**
 * Connection fields shared by `state.redis` and `pubsub.redis`, spelled as Dapr's
 * `common/component/redis` metadata so Dapr component YAML loads unchanged.
 */
const connectionFields = {
  redisHost: option.string({
    required: true,
    description:
      "Address of the Redis server as host:port (Dapr's form); a redis:// or rediss:// URL is accepted too",
    example: "localhost:6379",
  }),
  redisUsername: option.string({ description: "ACL user name (Redis 6+)" }),
  redisPassword: option.string({ sensitive: true, description: "Password (AUTH)" }),
  redisDB: option.integer({ default: 0, min: 0, description: "Database index to SELECT" }),
  enableTLS: option.boolean({
    default: false,
    description:
      "Connect over TLS; the server certificate is verified against caCert, else the system CAs",
  }),
  caCert: option.string({
    description:
      "PEM CA certificate(s) to verify the server with (outrig's addition: Dapr skips verification)",
  }),
  clientCert: option.string({
    description: "PEM client certificate for servers that require one (with clientKey)",
  }),
  clientKey: option.string({ sensitive: true, description: "PEM private key of clientCert" }),
  redisType: option.enum(["node", "cluster"], {
    default: "node",
    description: "Only `node` (a single server) is supported; `cluster` is rejected at init",
  }),
  failover: option.boolean({
    default: false,
    description: "Redis Sentinel failover; not supported, `true` is rejected at init",
  }),
  sentinelMasterName: option.string({ description: "Accepted for Dapr compatibility; unused" }),
  maxRetries: option.integer({
    default: 3,
    min: 0,
    aliases: ["redisMaxRetries"],
    description:
      "How many reconnect attempts a command that was in flight when the connection dropped waits for before it fails",
  }),
  maxRetryBackoff: option.duration({
    default: 2000,
    aliases: ["redisMaxRetryInterval"],
    description: "Upper bound of the exponential delay between reconnect attempts",
  }),
  dialTimeout: option.duration({
    default: 5000,
    description: "Timeout for establishing a connection",
  }),
  readTimeout: option.duration({
    default: 3000,
    description:
      "Timeout for one command's reply; a command that exceeds it fails with ERR_TIMEOUT",
  }),
  writeTimeout: option.duration({
    description:
      "Accepted for Dapr compatibility; the client has one per-command timeout (readTimeout)",
  }),
};

export const stateOptions = defineOptions("state.redis", {
  ...connectionFields,
  ttlInSeconds: option.integer({
    min: 1,
    description: "Default TTL for items written without a ttlInSeconds request value",
  }),
  queryIndexes: option.string({
    description:
      "RediSearch index definitions (Dapr); the query API needs RedisJSON/RediSearch, which this component does not use, so a value is rejected at init",
  }),
  actorStateStore: option.boolean({
    default: false,
    description: "Marks this store as the actor state store (read by the runtime)",
  }),
});

export const pubsubOptions = defineOptions("pubsub.redis", {
  ...connectionFields,
  consumerID: option.string({
    description: "Consumer group name; defaults to the app ID the host passes in",
  }),
  processingTimeout: option.duration({
    default: 15_000,
    description:
      "How long a delivered message may stay unacknowledged before another delivery attempt claims it; 0 disables redelivery",
  }),
  redeliverInterval: option.duration({
    default: 60_000,
    description: "How often pending messages are checked for redelivery; 0 disables redelivery",
  }),
  queueDepth: option.integer({
    default: 100,
    min: 1,
    description: "How many messages one read fetches from the stream",
  }),
  concurrency: option.integer({
    default: 10,
    min: 1,
    description: "How many messages one subscription hands to its handler at once",
  }),
  maxLenApprox: option.integer({
    min: 1,
    description: "Trim each stream to about this many entries on publish (XADD MAXLEN ~)",
  }),
  streamTTL: option.duration({
    description:
      "Trim entries older than this on publish (XADD MINID ~); ignored when maxLenApprox is set",
  }),
});

/** `configuration.redis`: only the connection (Dapr's configuration/redis metadata). */
export const configurationOptions = defineOptions("configuration.redis", {
  ...connectionFields,
});

/** `lock.redis`: Dapr's standalone Redis lock takes the shared connection metadata only. */
export const lockOptions = defineOptions("lock.redis", { ...connectionFields });

export type RedisStateOptions = ReturnType<typeof stateOptions.parse>;
export type RedisLockOptions = ReturnType<typeof lockOptions.parse>;
export type RedisPubSubOptions = ReturnType<typeof pubsubOptions.parse>;
/** The connection part both kinds share. */
export type RedisConnectionOptions = Pick<RedisStateOptions, keyof typeof connectionFields>;
