import { pbkdf2Sync, randomBytes } from "node:crypto";
import { defineTestService } from "../definition.ts";
import { hostAndPort, startContainer, useExternal } from "../service.ts";
import type { TestCertificates } from "../tls.ts";
import type { ServiceHandle, StartServiceOptions } from "../types.ts";
import image from "./image/image.json" with { type: "json" };
import { pingMqtt } from "./probe.ts";

/** The mosquitto test service: its image (./image/image.json) and the variable that names a running one. */
export const mosquittoDefinition = defineTestService({
  name: "mosquitto",
  image,
  override: { variable: "OUTRIG_TEST_MQTT_URL", value: (service) => service.url },
});

const OVERRIDE = mosquittoDefinition.override.variable;

export interface MosquittoService extends ServiceHandle {
  readonly name: "mosquitto";
  /** `mqtt://host:port` (the anonymous plain listener) */
  readonly url: string;
  /** With `tls`: the TLS listener that wants a user and password. */
  readonly tlsPort?: number;
  /** With `tls`: the TLS listener that wants a client certificate. */
  readonly mtlsPort?: number;
}

export interface MosquittoStartOptions extends StartServiceOptions {
  /** Adds the TLS listeners `tlsPort` and `mtlsPort` with these certificates. */
  tls?: TestCertificates;
  /** User names and passwords the `tlsPort` listener accepts. */
  users?: Record<string, string>;
}

const TLS_PORT = 8883;
const MTLS_PORT = 8884;

/**
 * A `password_file` line as `mosquitto_passwd` writes it for Mosquitto 2: PBKDF2-SHA512 with 101
 * iterations and a 12-byte salt (`$7$iterations$salt$hash`, base64).
 */
function passwordLine(user: string, password: string): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, 101, 64, "sha512");
  return `${user}:$7$101$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/**
 * Mosquitto's configuration with TLS: the anonymous plain listener the probe uses, a TLS listener
 * that wants a user and password, and one that wants a client certificate (its common name is the
 * user name).
 */
function tlsConfig(): string {
  return `per_listener_settings true
persistence false
log_dest stdout
user mosquitto

listener 1883
allow_anonymous true

listener ${TLS_PORT}
cafile /tls/ca.crt
certfile /tls/server.crt
keyfile /tls/server.key
allow_anonymous false
password_file /tls/passwd

listener ${MTLS_PORT}
cafile /tls/ca.crt
certfile /tls/server.crt
keyfile /tls/server.key
require_certificate true
use_identity_as_username true
`;
}

/**
 * Eclipse Mosquitto 2 in a container (anonymous MQTT 3.1.1/5 on one listener), or the broker
 * `OUTRIG_TEST_MQTT_URL` names (`mqtt://host:port`). With `tls` it is always a container with two
 * more listeners (`tlsPort`: TLS and `users`' passwords; `mtlsPort`: TLS and a client certificate).
 */
export async function startMosquitto(
  options: MosquittoStartOptions = {},
): Promise<MosquittoService> {
  const override = options.container || options.tls ? undefined : process.env[OVERRIDE];
  if (override) {
    const { host, port } = hostAndPort(override, 1883);
    const base = await useExternal(
      mosquittoDefinition,
      host,
      port,
      pingMqtt,
      options.readyTimeoutMs,
    );
    return { ...base, name: "mosquitto", url: override };
  }
  const tls = options.tls;
  const users = Object.entries(options.users ?? {});
  const base = await startContainer(
    {
      service: mosquittoDefinition,
      containerPort: 1883,
      // Mosquitto 2 listens on loopback only unless configured; the official image ships this file
      // for anonymous access on 1883, and the local image does too.
      command: ["mosquitto", "-c", tls ? "/tls/mosquitto.conf" : "/mosquitto-no-auth.conf"],
      ...(tls
        ? {
            extraPorts: [TLS_PORT, MTLS_PORT],
            // Readable by the `mosquitto` user the broker runs as; a test key only.
            files: [
              { content: tls.caCert, target: "/tls/ca.crt", mode: 0o644 },
              { content: tls.serverCert, target: "/tls/server.crt", mode: 0o644 },
              { content: tls.serverKey, target: "/tls/server.key", mode: 0o644 },
              {
                content: `${users.map(([u, p]) => passwordLine(u, p)).join("\n")}\n`,
                target: "/tls/passwd",
                mode: 0o644,
              },
              { content: tlsConfig(), target: "/tls/mosquitto.conf", mode: 0o644 },
            ],
          }
        : {}),
      probe: pingMqtt,
    },
    options,
  );
  return {
    ...base,
    name: "mosquitto",
    url: `mqtt://${base.host}:${base.port}`,
    ...(tls ? { tlsPort: base.extraHostPorts[0], mtlsPort: base.extraHostPorts[1] } : {}),
  };
}
