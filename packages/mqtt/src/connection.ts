import { ComponentError, errorMessage } from "@outrig/core";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { MqttOptions } from "./options.ts";

const COMPONENT = "pubsub.mqtt3";
/** How long the first connection may take before the component reports the broker unavailable. */
const CONNECT_TIMEOUT_MS = 10_000;

export function clientOptions(
  opts: MqttOptions,
  clientId: string,
  clean: boolean,
  extra: Partial<IClientOptions> = {},
): IClientOptions {
  return {
    clientId,
    clean,
    protocolVersion: 4,
    keepalive: Math.max(1, Math.round(opts.keepAlive / 1000)),
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
export async function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, options);
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
    throw new ComponentError("ERR_UNAVAILABLE", `cannot connect: ${errorMessage(error)}`, {
      component: COMPONENT,
      cause: error,
    });
  }
  return client;
}
