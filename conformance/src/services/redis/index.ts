import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { TestCertificates } from "../tls.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingRedis } from "./probe.ts";

/** The redis test service: its image (./image/image.json) and the variable that names a running one. */
export const redisDefinition = defineTestService({
  name: "redis",
  image,
  override: { variable: "OUTRIG_TEST_REDIS_URL", value: (service) => service.url },
});

const OVERRIDE = redisDefinition.override.variable;

export interface RedisService extends ServiceHandle {
  readonly name: "redis";
  /** `redis://host:port` (the plain listener) */
  readonly url: string;
  /** The TLS listener's host port, when started with `tls`. */
  readonly tlsPort?: number;
}

export interface RedisStartOptions extends StartServiceOptions {
  /** Adds a TLS listener (`tlsPort`) that requires a client certificate the CA signed. */
  tls?: TestCertificates;
  /** `requirepass`: the default user's password (on every listener). */
  password?: string;
  /** An ACL user with every permission. */
  user?: { name: string; password: string };
}

const TLS_PORT = 6380;

/**
 * Redis 7 in a container, or the one `OUTRIG_TEST_REDIS_URL` names (`redis://host:port`). With
 * `tls`, `password` or `user` it is always a container, configured at start through a file copied
 * in (the image stays as it is).
 */
export async function startRedis(options: RedisStartOptions = {}): Promise<RedisService> {
  const secured =
    options.tls !== undefined || options.password !== undefined || options.user !== undefined;
  const override = options.container || secured ? undefined : process.env[OVERRIDE];
  if (override) {
    const { host, port } = hostAndPort(override, 6379);
    const base = await useExternal(redisDefinition, host, port, pingRedis, options.readyTimeoutMs);
    return { ...base, name: "redis", url: override };
  }
  const config = ["include /etc/redis/outrig.conf"];
  const files: Array<{ content: string; target: string; mode?: number }> = [];
  if (options.tls) {
    files.push(
      { content: options.tls.caCert, target: "/tls/ca.crt" },
      { content: options.tls.serverCert, target: "/tls/server.crt" },
      { content: options.tls.serverKey, target: "/tls/server.key", mode: 0o600 },
    );
    config.push(
      `tls-port ${TLS_PORT}`,
      "tls-cert-file /tls/server.crt",
      "tls-key-file /tls/server.key",
      "tls-ca-cert-file /tls/ca.crt",
      "tls-auth-clients yes",
    );
  }
  if (options.password) config.push(`requirepass ${options.password}`);
  if (options.user)
    config.push(`user ${options.user.name} on >${options.user.password} ~* &* +@all`);
  const command = secured ? ["redis-server", "/tls/redis.conf"] : undefined;
  if (secured) files.push({ content: `${config.join("\n")}\n`, target: "/tls/redis.conf" });
  const base = await startContainer(
    {
      service: redisDefinition,
      containerPort: 6379,
      ...(options.tls ? { extraPorts: [TLS_PORT] } : {}),
      ...(command ? { command, files } : {}),
      probe: (host, port) => pingRedis(host, port, options.password),
    },
    options,
  );
  return {
    ...base,
    name: "redis",
    url: `redis://${base.host}:${base.port}`,
    ...(options.tls ? { tlsPort: base.extraHostPorts[0] } : {}),
  };
}
