import { ComponentError, ConfigError, errorMessage } from "@outrig/core";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { MqttSharedOptions } from "./options.ts";

/** How long the first connection may take before the component reports the broker unavailable. */
const CONNECT_TIMEOUT_MS = 10_000;

/** mqtt.js options of every connection the components open (publisher and consumers alike). */
export function clientOptions(
  opts: MqttSharedOptions,
  clientId: string,
  clean: boolean,
  extra: Partial<IClientOptions> = {},
): IClientOptions {
  return {
    clientId,
    clean,
    protocolVersion: 4,
    ...(opts.keepAlive !== undefined
      ? { keepalive: Math.max(1, Math.round(opts.keepAlive / 1000)) }
      : {}),
    reconnectPeriod: 1000,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Subscriptions of a clean session are gone after a reconnect; mqtt.js renews them.
    resubscribe: true,
    ...(opts.caCert ? { ca: opts.caCert } : {}),
    ...(opts.clientCert ? { cert: opts.clientCert } : {}),
    ...(opts.clientKey ? { key: opts.clientKey } : {}),
    ...extra,
  };
}

/**
 * Connects and waits for the broker's CONNACK, so a wrong address or refused credentials surface
 * as ERR_UNAVAILABLE instead of endless background reconnects.
 */
export async function connectClient(
  url: string,
  options: IClientOptions,
  component: string,
): Promise<MqttClient> {
  const address = brokerAddress(url);
  if (!TLS_SCHEMES.has(address.scheme) && (options.ca || options.cert || options.key)) {
    throw new ConfigError(
      [
        {
          field: "url",
          message: `caCert, clientCert and clientKey need a TLS URL (ssl://, mqtts://, tls:// or wss://), not ${address.scheme}://`,
        },
      ],
      { component },
    );
  }
  if (Boolean(options.cert) !== Boolean(options.key)) {
    throw new ConfigError(
      [{ field: "clientCert", message: "clientCert and clientKey go together" }],
      {
        component,
      },
    );
  }
  // Dapr documents ssl:// for TLS; mqtt.js 5 knows the same thing as mqtts:// only.
  const client = mqtt.connect(
    address.scheme === "ssl" ? url.trim().replace(/^ssl:/i, "mqtts:") : url,
    options,
  );
  // mqtt.js honours customHandleAcks only for MQTT 5 (where it may send a reason code), but the
  // hook is what delays PUBACK/PUBREC in 3.1.1 as well: install it before any packet is read.
  if (options.customHandleAcks) client.options.customHandleAcks = options.customHandleAcks;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS} ms`)),
        CONNECT_TIMEOUT_MS,
      );
      client.once("connect", () => {
        clearTimeout(timer);
        client.removeListener("error", reject);
        resolve();
      });
      client.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } catch (error) {
    await client.endAsync(true).catch(() => {});
    const code = (error as { code?: unknown } | null)?.code;
    const tls =
      typeof code === "string" &&
      (code.startsWith("ERR_SSL") ||
        code.startsWith("ERR_TLS") ||
        /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/.test(code));
    const reason = tls
      ? `the TLS handshake failed: ${errorMessage(error)} (${code}) (check caCert, clientCert and clientKey)`
      : errorMessage(error);
    throw new ComponentError(
      "ERR_UNAVAILABLE",
      `cannot connect to the MQTT broker at ${address.host}:${address.port}: ${reason}`,
      { component, cause: error },
    );
  }
  return client;
}

const TLS_SCHEMES = new Set(["ssl", "mqtts", "tls", "wss"]);
const DEFAULT_PORTS: Record<string, number> = {
  ssl: 8883,
  mqtts: 8883,
  tls: 8883,
  wss: 443,
  ws: 80,
};

/** Scheme, host and port of a broker URL (never its user or password), for messages and checks. */
export function brokerAddress(url: string): { scheme: string; host: string; port: number } {
  const match = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim());
  const scheme = (match?.[1] ?? "mqtt").toLowerCase();
  try {
    const parsed = new URL(match ? url.trim() : `mqtt://${url.trim()}`);
    return {
      scheme,
      host: parsed.hostname.replace(/^\[|\]$/g, ""),
      port: parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[scheme] ?? 1883),
    };
  } catch {
    return { scheme, host: "(unparsable url)", port: DEFAULT_PORTS[scheme] ?? 1883 };
  }
}
