import { createHash, randomBytes } from "node:crypto";
import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { TestCertificates } from "../tls.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingAmqp } from "./probe.ts";

/** The rabbitmq test service: its image (./image/image.json) and the variable that names a running one. */
export const rabbitmqDefinition = defineTestService({
  name: "rabbitmq",
  image,
  override: { variable: "OUTRIG_TEST_RABBITMQ_URL", value: (service) => service.url },
});

const OVERRIDE = rabbitmqDefinition.override.variable;

export interface RabbitMQService extends ServiceHandle {
  readonly name: "rabbitmq";
  /** `amqp://user:password@host:port` (vhost `/`) */
  readonly url: string;
  readonly user: string;
  readonly password: string /** With `tls`: the AMQPS listener's host port. */;
  readonly tlsPort?: number;
}

export interface RabbitMQStartOptions extends StartServiceOptions {
  /** Adds an AMQPS listener (`tlsPort`) with these certificates, and SASL EXTERNAL for `clientName`. */
  tls?: TestCertificates;
  /** More users (name to password) with every permission on `/`. */
  users?: Record<string, string>;
}

const TLS_PORT = 5671;

/** RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)), 4-byte salt. */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  const digest = createHash("sha256")
    .update(Buffer.concat([salt, Buffer.from(password)]))
    .digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

/** Definitions loaded at boot: `guest`, the given users, and one password-less user per certificate name (EXTERNAL). */
function definitions(users: Record<string, string>, certificateUsers: string[]): string {
  const all: Array<[string, string | undefined]> = [
    ["guest", "guest"],
    ...Object.entries(users),
    ...certificateUsers.map((name): [string, undefined] => [name, undefined]),
  ];
  return JSON.stringify({
    vhosts: [{ name: "/" }],
    users: all.map(([name, password]) => ({
      name,
      password_hash: password === undefined ? "" : passwordHash(password),
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: name === "guest" ? "administrator" : "",
    })),
    permissions: all.map(([user]) => ({
      user,
      vhost: "/",
      configure: ".*",
      write: ".*",
      read: ".*",
    })),
  });
}

/**
 * RabbitMQ 3 in a container (AMQP 0-9-1, `guest`/`guest`, vhost `/`), or the broker
 * `OUTRIG_TEST_RABBITMQ_URL` names (`amqp://user:password@host:port`). With `tls` it is always a
 * container with an AMQPS listener (`tlsPort`) that verifies client certificates when presented and
 * offers SASL EXTERNAL (the certificate's common name is the user), plus `users`.
 */
export async function startRabbitMQ(options: RabbitMQStartOptions = {}): Promise<RabbitMQService> {
  const override = options.container || options.tls ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const { host, port } = hostAndPort(override, 5672);
    const user = decodeURIComponent(url.username) || "guest";
    const password = decodeURIComponent(url.password) || "guest";
    const base = await useExternal(
      rabbitmqDefinition,
      host,
      port,
      (h, p) => pingAmqp(h, p, user, password),
      options.readyTimeoutMs,
    );
    return { ...base, name: "rabbitmq", url: override, user, password };
  }
  const tls = options.tls;
  const config = `loopback_users = none
listeners.tcp.default = 5672
listeners.ssl.default = ${TLS_PORT}
ssl_options.cacertfile = /tls/ca.crt
ssl_options.certfile = /tls/server.crt
ssl_options.keyfile = /tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
load_definitions = /tls/definitions.json
`;
  const base = await startContainer(
    {
      service: rabbitmqDefinition,
      containerPort: 5672,
      probe: (host, port) => pingAmqp(host, port, "guest", "guest"),
      ...(tls
        ? {
            extraPorts: [TLS_PORT],
            environment: () => ({
              RABBITMQ_CONFIG_FILE: "/tls/rabbitmq.conf",
              RABBITMQ_ENABLED_PLUGINS_FILE: "/tls/enabled_plugins",
            }),
            // Readable by the `rabbitmq` user the broker runs as; a test key only.
            files: [
              { content: tls.caCert, target: "/tls/ca.crt", mode: 0o644 },
              { content: tls.serverCert, target: "/tls/server.crt", mode: 0o644 },
              { content: tls.serverKey, target: "/tls/server.key", mode: 0o644 },
              { content: config, target: "/tls/rabbitmq.conf", mode: 0o644 },
              {
                content: "[rabbitmq_auth_mechanism_ssl].\n",
                target: "/tls/enabled_plugins",
                mode: 0o644,
              },
              {
                content: definitions(options.users ?? {}, [tls.clientName]),
                target: "/tls/definitions.json",
                mode: 0o644,
              },
            ],
          }
        : {}),
    },
    options,
  );
  return {
    ...base,
    name: "rabbitmq",
    url: `amqp://guest:guest@${base.host}:${base.port}`,
    user: "guest",
    password: "guest",
    ...(tls ? { tlsPort: base.extraHostPorts[0] } : {}),
  };
}
