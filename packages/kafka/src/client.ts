import type { ConnectionOptions } from "node:tls";
import { ConfigError, type Logger } from "@outrig/core";
import { type KafkaConfig, type logCreator, logLevel, type SASLOptions } from "kafkajs";
import type { KafkaOptions } from "./options.ts";

const COMPONENT = "pubsub.kafka";

/** kafkajs configuration from Dapr's metadata (security as in securityConfig). */
export function kafkaConfig(opts: KafkaOptions, clientId: string, logger: Logger): KafkaConfig {
  const { ssl, sasl } = securityConfig(opts, COMPONENT);
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

/** The metadata fields securityConfig reads; pubsub.kafka and bindings.kafka share them. */
export type KafkaSecurityOptions = Pick<
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
export function securityConfig(
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
