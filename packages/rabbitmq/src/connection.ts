import { ComponentError, ConfigError, type ConfigIssue, errorMessage } from "@outrig/core";
import type { RabbitMQOptions } from "./options.ts";

export interface ConnectTarget {
  url: string | AmqpConnect;
  socketOptions: Record<string, unknown>;
}

/** The subset of amqplib's connect options we fill in. */
interface AmqpConnect {
  protocol: string;
  hostname: string;
  port?: number;
  username?: string;
  password?: string;
  vhost?: string;
  heartbeat?: number;
}

/**
 * Turns either configuration style (connectionString, or protocol/hostname/username/password)
 * into amqplib's connect arguments, with TLS material and SASL EXTERNAL when asked for.
 */
export function connectTarget(opts: RabbitMQOptions, credentials: unknown): ConnectTarget {
  const heartbeat = Math.max(0, Math.round(opts.heartBeat / 1000));
  let url: string | AmqpConnect;
  if (opts.connectionString) {
    url = withHeartbeat(opts.connectionString, heartbeat);
  } else if (opts.hostname) {
    const [host, port] = opts.hostname.split(":");
    url = {
      protocol: opts.protocol,
      hostname: host as string,
      ...(port ? { port: Number(port) } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
      heartbeat,
    };
  } else {
    throw new ConfigError(
      [{ field: "connectionString", message: "is required (or set hostname)" }],
      { component: "pubsub.rabbitmq" },
    );
  }
  const socketOptions = tlsSocketOptions(opts, credentials, "pubsub.rabbitmq");
  if (opts.clientName) socketOptions.clientProperties = { connection_name: opts.clientName };
  return { url, socketOptions };
}

function withHeartbeat(connectionString: string, heartbeat: number): string {
  if (/[?&]heartbeat=/.test(connectionString)) return connectionString;
  return `${connectionString}${connectionString.includes("?") ? "&" : "?"}heartbeat=${heartbeat}`;
}

/** Where and how to connect, as both the pub/sub and the binding configure it. */
export interface BrokerTarget {
  connectionString?: string | undefined;
  hostname?: string | undefined;
  protocol?: string | undefined;
  caCert?: string | undefined;
  clientCert?: string | undefined;
  clientKey?: string | undefined;
  saslExternal?: boolean | undefined;
}

/** amqplib socket options for the TLS material and SASL EXTERNAL (`credentials`), checked. */
export function tlsSocketOptions(
  opts: BrokerTarget,
  credentials: unknown,
  component: string,
): Record<string, unknown> {
  checkTls(opts, component);
  const socketOptions: Record<string, unknown> = {};
  if (opts.caCert) socketOptions.ca = [opts.caCert];
  if (opts.clientCert) socketOptions.cert = opts.clientCert;
  if (opts.clientKey) socketOptions.key = opts.clientKey;
  if (opts.saslExternal) socketOptions.credentials = credentials;
  return socketOptions;
}

/** TLS settings that could not take effect are refused by name instead of being ignored. */
function checkTls(opts: BrokerTarget, component: string): void {
  const issues: ConfigIssue[] = [];
  const { scheme } = brokerAddress(opts);
  if (scheme !== "amqps") {
    for (const field of ["caCert", "clientCert", "clientKey", "saslExternal"] as const) {
      if (opts[field]) issues.push({ field, message: `needs amqps (not ${scheme})` });
    }
  }
  if (Boolean(opts.clientCert) !== Boolean(opts.clientKey)) {
    issues.push({ field: "clientCert", message: "clientCert and clientKey go together" });
  }
  if (opts.saslExternal && !opts.clientCert) {
    issues.push({
      field: "saslExternal",
      message:
        "SASL EXTERNAL authenticates with the client certificate: set clientCert and clientKey",
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component });
}

/** Scheme, host and port the configuration points at (never the credentials). */
export function brokerAddress(opts: BrokerTarget): {
  scheme: string;
  host: string;
  port: number;
} {
  if (opts.connectionString) {
    try {
      const url = new URL(opts.connectionString);
      const scheme = url.protocol.replace(/:$/, "").toLowerCase();
      const port = url.port ? Number(url.port) : scheme === "amqps" ? 5671 : 5672;
      return { scheme, host: url.hostname || "localhost", port };
    } catch {
      return { scheme: "amqp", host: "(unparsable connectionString)", port: 5672 };
    }
  }
  const [host, port] = (opts.hostname ?? "localhost").split(":");
  const scheme = opts.protocol ?? "amqp";
  return {
    scheme,
    host: host || "localhost",
    port: port ? Number(port) : scheme === "amqps" ? 5671 : 5672,
  };
}

/** A failed first connection as ERR_UNAVAILABLE, naming the broker and, for TLS, what to check. */
export function connectError(
  error: unknown,
  opts: BrokerTarget,
  component: string,
): ComponentError {
  const { host, port } = brokerAddress(opts);
  const code = (error as { code?: unknown } | null)?.code;
  const tls =
    typeof code === "string" &&
    (code.startsWith("ERR_SSL") ||
      code.startsWith("ERR_TLS") ||
      /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code));
  const reason = tls
    ? `the TLS handshake failed: ${errorMessage(error)} (${code}) (check caCert, clientCert and clientKey)`
    : errorMessage(error);
  return new ComponentError(
    "ERR_UNAVAILABLE",
    `cannot connect to RabbitMQ at ${host}:${port}: ${reason}`,
    {
      component,
      cause: error,
    },
  );
}
