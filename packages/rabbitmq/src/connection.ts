import { ConfigError } from "@outrig/core";
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
  const socketOptions: Record<string, unknown> = {};
  if (opts.caCert) socketOptions.ca = [opts.caCert];
  if (opts.clientCert) socketOptions.cert = opts.clientCert;
  if (opts.clientKey) socketOptions.key = opts.clientKey;
  if (opts.saslExternal) socketOptions.credentials = credentials;
  if (opts.clientName) socketOptions.clientProperties = { connection_name: opts.clientName };
  return { url, socketOptions };
}

function withHeartbeat(connectionString: string, heartbeat: number): string {
  if (/[?&]heartbeat=/.test(connectionString)) return connectionString;
  return `${connectionString}${connectionString.includes("?") ? "&" : "?"}heartbeat=${heartbeat}`;
}
