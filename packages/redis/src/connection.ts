import { ComponentError, ConfigError, type ConfigIssue } from "@outrig/core";
import { Redis, type RedisOptions } from "ioredis";
import type { RedisConnectionOptions } from "./options.ts";

export interface ServerAddress {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

/** Reads `redisHost` as Dapr's `host:port` (or `[v6]:port`), or as a redis:// / rediss:// URL. */
export function parseRedisHost(value: string): ServerAddress | string {
  const text = value.trim();
  if (text.includes(",")) return "several hosts (cluster/sentinel) are not supported";
  if (/^rediss?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return "is not a valid URL";
    }
    const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
    if (db !== undefined && !Number.isInteger(db)) return "the URL path must be a database number";
    return {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port ? Number(url.port) : 6379,
      tls: url.protocol.toLowerCase() === "rediss:",
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(db !== undefined ? { db } : {}),
    };
  }
  const m = /^(?:\[([^\]\s]+)\]|([^:\s/]+))(?::(\d+))?$/.exec(text);
  if (!m) return "must be host:port";
  const port = m[3] ? Number(m[3]) : 6379;
  if (port < 1 || port > 65535) return "port must be 1..65535";
  return { host: (m[1] ?? m[2]) as string, port, tls: false };
}

/** Rejects the Dapr settings this component accepts by name but cannot honour. */
export function checkConnectionOptions(
  options: RedisConnectionOptions,
  component: string,
): ServerAddress {
  const issues: ConfigIssue[] = [];
  const address = parseRedisHost(options.redisHost ?? "");
  if (typeof address === "string") issues.push({ field: "redisHost", message: address });
  if (options.redisType === "cluster") {
    issues.push({ field: "redisType", message: "cluster mode is not supported; use node" });
  }
  const tls = options.enableTLS || (typeof address !== "string" && address.tls);
  if (!tls) {
    for (const field of ["caCert", "clientCert", "clientKey"] as const) {
      if (options[field]) {
        issues.push({ field, message: "needs enableTLS=true (or a rediss:// redisHost)" });
      }
    }
  }
  if (Boolean(options.clientCert) !== Boolean(options.clientKey)) {
    issues.push({ field: "clientCert", message: "clientCert and clientKey go together" });
  }
  if (options.failover) {
    issues.push({ field: "failover", message: "Redis Sentinel failover is not supported" });
  }
  if (issues.length > 0) throw new ConfigError(issues, { component });
  return address as ServerAddress;
}

/**
 * Connection policy, chosen so that a lost server makes calls fail fast with ERR_UNAVAILABLE
 * instead of queueing behind a reconnect loop:
 * - `enableOfflineQueue: false`: a command issued while disconnected is rejected at once;
 * - `maxRetriesPerRequest`: a command in flight when the connection drops waits for at most
 *   `maxRetries` reconnect attempts;
 * - the client keeps reconnecting in the background (capped exponential backoff), so calls work
 *   again as soon as the server is back;
 * - `commandTimeout` bounds a server that accepts the connection but stops answering.
 */
export function clientOptions(
  options: RedisConnectionOptions,
  address: ServerAddress,
  connectionName: string,
): RedisOptions {
  const tls = options.enableTLS || address.tls;
  const username = options.redisUsername || address.username;
  const password = options.redisPassword || address.password;
  return {
    host: address.host,
    port: address.port,
    db: options.redisDB || address.db || 0,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls
      ? {
          tls: {
            servername: address.host,
            ...(options.caCert ? { ca: options.caCert } : {}),
            ...(options.clientCert ? { cert: options.clientCert } : {}),
            ...(options.clientKey ? { key: options.clientKey } : {}),
          },
        }
      : {}),
    connectionName,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: options.maxRetries ?? 3,
    connectTimeout: options.dialTimeout ?? 5000,
    commandTimeout: options.readTimeout ? options.readTimeout : undefined,
    retryStrategy: (times) =>
      Math.min(50 * 2 ** Math.min(times, 10), options.maxRetryBackoff || 2000),
  };
}

/** Opens a connection and waits until it is ready; fails with ERR_UNAVAILABLE within dialTimeout. */
export async function connect(redisOptions: RedisOptions, component: string): Promise<Redis> {
  const client = new Redis(redisOptions);
  // Errors also surface on each command; without a listener Node would treat them as uncaught.
  client.on("error", () => {});
  // connect() rejects with "Connection is closed"; the reason (a TLS or AUTH failure) is an event.
  let reason: unknown;
  const remember = (error: unknown) => {
    reason ??= error;
  };
  client.on("error", remember);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw connectError(reason ?? error, redisOptions, component);
  } finally {
    client.off("error", remember);
  }
  return client;
}

/** A failed first connection, naming the server (never the credentials) and why. */
function connectError(
  error: unknown,
  redisOptions: RedisOptions,
  component: string,
): ComponentError {
  const where = `${redisOptions.host}:${redisOptions.port}`;
  const mapped = toComponentError(error, component);
  const tls = tlsFailure(error);
  const message = error instanceof Error ? error.message : String(error);
  // A TLS 1.3 server that wants a client certificate drops the connection after the handshake.
  const reset =
    redisOptions.tls &&
    !redisOptions.tls.cert &&
    (error as { code?: unknown })?.code === "ECONNRESET";
  const reason = tls
    ? `the TLS handshake failed: ${tls} (check caCert, clientCert and clientKey)`
    : reset
      ? `${message} (does the server require a client certificate? set clientCert and clientKey)`
      : message;
  return new ComponentError(
    tls ? "ERR_UNAVAILABLE" : mapped.code,
    `cannot connect to Redis at ${where}: ${reason}`,
    { component, cause: error },
  );
}

/** Node's TLS errors carry an OpenSSL code (`ERR_SSL_*`) or a certificate verification code. */
function tlsFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code !== "string") return undefined;
  if (
    code.startsWith("ERR_SSL") ||
    code.startsWith("ERR_TLS") ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code)
  ) {
    return `${message} (${code})`;
  }
  return undefined;
}

const UNAVAILABLE = [
  "Connection is closed",
  "Stream isn't writeable",
  "enableOfflineQueue",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "connect ETIMEDOUT",
  "Reached the max retries per request limit",
  "LOADING",
  "None of the",
];

/** Maps client and server errors onto the ComponentError codes. */
export function toComponentError(error: unknown, component: string): ComponentError {
  if (error instanceof ComponentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "";
  if (name === "MaxRetriesPerRequestError" || UNAVAILABLE.some((m) => message.includes(m))) {
    return new ComponentError("ERR_UNAVAILABLE", `Redis is unavailable: ${message}`, {
      component,
      cause: error,
    });
  }
  if (message.includes("Command timed out")) {
    return new ComponentError("ERR_TIMEOUT", `Redis did not answer in time: ${message}`, {
      component,
      cause: error,
    });
  }
  if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(message)) {
    return new ComponentError("ERR_UNAVAILABLE", `Redis refused the credentials: ${message}`, {
      component,
      cause: error,
    });
  }
  return new ComponentError("ERR_INTERNAL", message, { component, cause: error });
}

/** Closes politely when connected, and drops the socket otherwise; never throws. */
export async function disconnect(client: Redis): Promise<void> {
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // fall through: the socket is dropped below
    }
  }
  client.disconnect();
}

/** The Redis half of a component's ping: a PING, its failure mapped as every call's is. */
export async function pingClient(client: Redis, component: string): Promise<void> {
  try {
    await client.ping();
  } catch (error) {
    throw toComponentError(error, component);
  }
}
