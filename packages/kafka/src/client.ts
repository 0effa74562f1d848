import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { ComponentError, ConfigError, errorMessage, type Logger } from "@outrig/core";
import {
  type Admin,
  Kafka,
  type KafkaConfig,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from "kafkajs";
import type { KafkaOptions } from "./options.ts";

/**
 * The way to the brokers of one pubsub.kafka or bindings.kafka component: the kafkajs
 * configuration (checked at init, see `connectKafka`), an admin client and a producer made on
 * first use, missing topics created once each, and a fresh client for every consumer.
 */
export class KafkaConnection {
  readonly config: KafkaConfig;
  readonly component: string;
  readonly #kafka: Kafka;
  /** False with disableEntityManagement: missing topics are then the caller's problem. */
  readonly #manageTopics: boolean;
  /** Topics known to exist (created or found), so CreateTopics runs once per topic. */
  readonly #topics = new Map<string, Promise<void>>();
  #admin: Promise<Admin> | undefined;
  #producer: Promise<Producer> | undefined;

  constructor(config: KafkaConfig, component: string, manageTopics: boolean) {
    this.config = config;
    this.#kafka = new Kafka(config);
    this.component = component;
    this.#manageTopics = manageTopics;
  }

  /** A client of its own, for one consumer (see GroupConsumer). */
  newClient(): Kafka {
    return new Kafka(this.config);
  }

  admin(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin();
      const connecting = admin.connect().then(() => admin);
      connecting.catch(() => {
        if (this.#admin === connecting) this.#admin = undefined;
      });
      this.#admin = connecting;
    }
    return this.#admin;
  }

  /** The producer, connected; acks from all in-sync replicas are asked per send. */
  producer(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        allowAutoTopicCreation: this.#manageTopics,
        // Java's murmur2 partitioning, so keys land where other Kafka clients put them.
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const connecting = producer.connect().then(() => producer);
      connecting.catch(() => {
        if (this.#producer === connecting) this.#producer = undefined;
      });
      this.#producer = connecting;
    }
    return this.#producer;
  }

  async ping(): Promise<void> {
    try {
      const admin = await this.admin();
      await admin.describeCluster();
    } catch (error) {
      throw new ComponentError("ERR_UNAVAILABLE", `brokers do not answer: ${errorMessage(error)}`, {
        component: this.component,
        cause: error,
      });
    }
  }

  /**
   * Creates a missing topic with the broker's default partitions and replication, unless
   * disableEntityManagement; then a missing topic is the caller's problem, as Dapr leaves it.
   */
  ensureTopic(topic: string): Promise<void> {
    if (!this.#manageTopics) return Promise.resolve();
    let known = this.#topics.get(topic);
    if (!known) {
      known = this.admin()
        .then((admin) => admin.createTopics({ topics: [{ topic }], waitForLeaders: true }))
        .then(
          () => undefined,
          (error: unknown) => {
            if (/already exists/i.test(errorMessage(error))) return;
            throw error;
          },
        );
      const creating = known;
      creating.catch(() => {
        if (this.#topics.get(topic) === creating) this.#topics.delete(topic);
      });
      this.#topics.set(topic, known);
    }
    return known.catch((error: unknown) => {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `cannot create topic ${topic}: ${errorMessage(error)}`,
        { component: this.component, cause: error },
      );
    });
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    const producer = this.#producer;
    this.#admin = undefined;
    this.#producer = undefined;
    await Promise.allSettled([
      producer?.then((p) => p.disconnect()),
      admin?.then((a) => a.disconnect()),
    ]);
  }
}

/**
 * A connection from Dapr's metadata: security as in securityConfig, broker certificates checked
 * at once (see checkBrokerCertificates).
 */
export async function connectKafka(
  opts: KafkaConfigOptions,
  clientId: string,
  logger: Logger,
  component: string,
  manageTopics: boolean,
): Promise<KafkaConnection> {
  const config = kafkaConfig(opts, clientId, logger, component);
  await checkBrokerCertificates(
    opts.brokers,
    typeof config.ssl === "object" ? config.ssl : undefined,
    component,
  );
  return new KafkaConnection(config, component, manageTopics);
}

/** The metadata fields kafkaConfig reads; pubsub.kafka and bindings.kafka share them. */
export type KafkaConfigOptions = KafkaSecurityOptions & Pick<KafkaOptions, "brokers">;

/** kafkajs configuration from Dapr's metadata (security as in securityConfig). */
function kafkaConfig(
  opts: KafkaConfigOptions,
  clientId: string,
  logger: Logger,
  component: string,
): KafkaConfig {
  const { ssl, sasl } = securityConfig(opts, component);
  return {
    clientId,
    brokers: opts.brokers,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    // kafkajs gives up after ~10 s by default; a broker that just started (or a loaded one) can
    // take longer to elect topic leaders and load the group coordinator.
    retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 5000 },
    logCreator: loggerBridge(logger),
    logLevel: logLevel.WARN,
  };
}

/** The metadata fields securityConfig reads. */
type KafkaSecurityOptions = Pick<
  KafkaOptions,
  | "authType"
  | "authRequired"
  | "saslUsername"
  | "saslPassword"
  | "saslMechanism"
  | "disableTls"
  | "skipVerify"
  | "caCert"
  | "clientCert"
  | "clientKey"
>;

/**
 * TLS whenever authentication is on (unless disableTls) or certificates are given, SASL
 * PLAIN/SCRAM for authType=password, a client certificate for mtls.
 */
function securityConfig(
  opts: KafkaSecurityOptions,
  component: string,
): { ssl: ConnectionOptions | undefined; sasl: SASLOptions | undefined } {
  const authType = opts.authType ?? (opts.authRequired ? "password" : "none");
  let sasl: SASLOptions | undefined;
  if (authType === "password") {
    const issues = [];
    if (!opts.saslUsername)
      issues.push({ field: "saslUsername", message: "is required for authType=password" });
    if (!opts.saslPassword)
      issues.push({ field: "saslPassword", message: "is required for authType=password" });
    if (issues.length > 0) throw new ConfigError(issues, { component });
    const username = opts.saslUsername as string;
    const password = opts.saslPassword as string;
    sasl =
      opts.saslMechanism === "SHA-256"
        ? { mechanism: "scram-sha-256", username, password }
        : opts.saslMechanism === "SHA-512"
          ? { mechanism: "scram-sha-512", username, password }
          : { mechanism: "plain", username, password };
  }
  if (authType === "mtls" && (!opts.clientCert || !opts.clientKey)) {
    throw new ConfigError(
      [{ field: "clientCert", message: "clientCert and clientKey are required for authType=mtls" }],
      { component },
    );
  }
  const wantsTls =
    !opts.disableTls &&
    (authType !== "none" || opts.caCert !== undefined || opts.clientCert !== undefined);
  const ssl = wantsTls
    ? {
        rejectUnauthorized: !opts.skipVerify,
        ...(opts.caCert ? { ca: [opts.caCert] } : {}),
        ...(opts.clientCert ? { cert: opts.clientCert } : {}),
        ...(opts.clientKey ? { key: opts.clientKey } : {}),
      }
    : undefined;
  return { ssl, sasl };
}

/** How long the TLS check at init waits for one broker's handshake. */
const TLS_CHECK_TIMEOUT_MS = 10_000;

/**
 * One TLS handshake with each bootstrap broker before kafkajs connects: kafkajs retries every
 * connection error for its whole retry budget (~25 s here), but a certificate that fails
 * verification will fail every time, so that is reported at once, naming the broker. Anything
 * else (refused, timed out) is left to kafkajs and its retries.
 */
async function checkBrokerCertificates(
  brokers: string[],
  ssl: ConnectionOptions | undefined,
  component: string,
): Promise<void> {
  if (!ssl) return;
  await Promise.all(
    brokers.map(async (broker) => {
      const at = broker.lastIndexOf(":");
      const host = broker.slice(0, at).replace(/^\[|\]$/g, "");
      const port = Number(broker.slice(at + 1));
      if (at < 0 || !Number.isInteger(port)) return;
      const failure = await new Promise<Error | undefined>((resolve) => {
        const socket = tlsConnect({ ...ssl, host, port, servername: host });
        const done = (error?: Error) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(error);
        };
        const timer = setTimeout(() => done(), TLS_CHECK_TIMEOUT_MS);
        socket.once("secureConnect", () => done());
        socket.once("error", (error) => done(error));
      });
      const code = (failure as { code?: unknown } | undefined)?.code;
      if (
        typeof code === "string" &&
        (code.startsWith("ERR_SSL") ||
          code.startsWith("ERR_TLS") ||
          /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code))
      ) {
        throw new ComponentError(
          "ERR_UNAVAILABLE",
          `cannot connect to ${broker}: the TLS handshake failed: ${errorMessage(failure)} (${code}) (check caCert, clientCert, clientKey and skipVerify)`,
          { component, cause: failure },
        );
      }
    }),
  );
}

/** kafkajs log lines go to the component's logger (silent unless the host gives one). */
function loggerBridge(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      if (level === logLevel.ERROR) logger.error(`kafkajs: ${message}`, fields);
      else if (level === logLevel.WARN) logger.warn(`kafkajs: ${message}`, fields);
      else logger.debug(`kafkajs: ${message}`, fields);
    };
}
