import {
  ComponentError,
  errorMessage,
  getMetadata,
  isTruthy,
  type Logger,
  type Metadata,
} from "@outrig/core";
import type { MqttClient } from "mqtt";
import { clientOptions, connectClient } from "./connection.ts";
import type { MqttSharedOptions } from "./options.ts";

/** How long a publish waits for the broker's acknowledgement (mqtt.js queues while reconnecting). */
const PUBLISH_TIMEOUT_MS = 15_000;

/**
 * The publishing connection of `pubsub.mqtt3` and `bindings.mqtt3`. It keeps no subscriptions, so
 * it never needs a persistent session; mqtt.js resends its own unacknowledged publishes after a
 * reconnect. Connected on first use; a failed connection is tried again by the next call.
 */
export class Producer {
  readonly #opts: MqttSharedOptions;
  readonly #clientId: string;
  readonly #component: string;
  readonly #logger: Logger;
  #client: Promise<MqttClient> | undefined;

  constructor(opts: MqttSharedOptions, clientId: string, component: string, logger: Logger) {
    this.#opts = opts;
    this.#clientId = clientId;
    this.#component = component;
    this.#logger = logger;
  }

  /** Connects (once) and waits for CONNACK; a wrong address or credentials are ERR_UNAVAILABLE. */
  connect(): Promise<MqttClient> {
    if (!this.#client) {
      const connecting = connectClient(
        this.#opts.url,
        clientOptions(this.#opts, this.#clientId, true),
        this.#component,
      ).then((client) => {
        client.on("error", (error) =>
          this.#logger.warn("mqtt publisher error", { error: errorMessage(error) }),
        );
        return client;
      });
      connecting.catch(() => {
        if (this.#client === connecting) this.#client = undefined;
      });
      this.#client = connecting;
    }
    return this.#client;
  }

  async ping(): Promise<void> {
    const client = await this.connect();
    if (!client.connected) {
      throw new ComponentError("ERR_UNAVAILABLE", "not connected to the broker", {
        component: this.#component,
      });
    }
  }

  /** Resolves when the broker acknowledged (QoS 1/2), within PUBLISH_TIMEOUT_MS. */
  async publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    if (topic === "" || /[+#]/.test(topic)) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `cannot publish to the topic filter ${JSON.stringify(topic)}`,
        { component: this.#component },
      );
    }
    const client = await this.connect();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.publishAsync(topic, payload, { qos: this.#opts.qos as 0 | 1 | 2, retain }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not acknowledged within ${PUBLISH_TIMEOUT_MS} ms`)),
            PUBLISH_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `publish to ${topic} failed: ${errorMessage(error)}`,
        { component: this.#component, cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const client = await this.#client?.catch(() => undefined);
    this.#client = undefined;
    await client?.endAsync().catch(() => client.endAsync(true).catch(() => {}));
  }
}

/** The request's `retain` metadata, or the component's `retain` option when it has none. */
export function retainOf(metadata: Metadata | undefined, fallback: boolean): boolean {
  const text = getMetadata(metadata, "retain");
  return text === undefined || text === "" ? fallback : isTruthy(text);
}

/** The bytes as a Buffer over the same memory, as mqtt.js takes a payload. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
