import { createHash, randomUUID } from "node:crypto";
import {
  BasePubSub,
  type ComponentContext,
  ComponentError,
  ConfigError,
  errorMessage,
  getMetadata,
  isTruthy,
  type Logger,
  type MessageHandler,
  type Metadata,
  type PublishRequest,
  type PubSubCapability,
  type PubSubDefinition,
  parseTtlInSeconds,
  type SubscribeRequest,
  silentLogger,
} from "@outrig/core";
import type { MqttClient } from "mqtt";
import { clientOptions, connectClient } from "./connection.ts";
import { type MqttOptions, mqttOptions } from "./options.ts";
import { Subscription } from "./subscription.ts";

const COMPONENT = "pubsub.mqtt3";
/** How long a publish waits for the broker's acknowledgement (mqtt.js queues while reconnecting). */
const PUBLISH_TIMEOUT_MS = 15_000;
const CAPABILITIES: readonly PubSubCapability[] = ["SUBSCRIBE_WILDCARDS", "ORDERING"];

/**
 * Dapr's `pubsub.mqtt3` over mqtt.js (MQTT 3.1.1): one publisher connection, and one connection
 * per subscription whose acknowledgement waits for the handler.
 */
export class MqttPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly options: MqttOptions;
  readonly #url: string;
  readonly #publisher: MqttClient;
  readonly #consumerID: string | undefined;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Subscription>();
  /** Client IDs whose previous connection is still closing; a new one must wait, or it is kicked. */
  readonly #closing = new Map<string, Promise<void>>();
  #closed = false;

  private constructor(
    url: string,
    opts: MqttOptions,
    publisher: MqttClient,
    consumerID: string | undefined,
    logger: Logger,
  ) {
    super();
    this.#url = url;
    this.options = opts;
    this.#publisher = publisher;
    this.#consumerID = consumerID;
    this.#logger = logger;
    publisher.on("error", (error) =>
      logger.warn("mqtt publisher error", { error: errorMessage(error) }),
    );
  }

  static async create(metadata: Metadata, context: ComponentContext = {}): Promise<MqttPubSub> {
    const opts = mqttOptions.parse(metadata);
    const consumerID = opts.consumerID ?? context.appId;
    const producerID =
      opts.producerID ?? (consumerID ? `${consumerID}-producer` : `outrig-${randomUUID()}`);
    // The publisher keeps no subscriptions, so it never needs a persistent session; mqtt.js
    // resends its own unacknowledged publishes after a reconnect.
    const publisher = await connectClient(opts.url, clientOptions(opts, producerID, true));
    return new MqttPubSub(opts.url, opts, publisher, consumerID, context.logger ?? silentLogger);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    if (!this.#publisher.connected) {
      throw new ComponentError("ERR_UNAVAILABLE", "not connected to the broker", {
        component: COMPONENT,
      });
    }
  }

  async publish(request: PublishRequest): Promise<void> {
    this.#assertOpen();
    // MQTT 3.1.1 has no message expiry; the value is still validated like everywhere else.
    parseTtlInSeconds(request.metadata);
    const retainText = getMetadata(request.metadata, "retain");
    const retain =
      retainText === undefined || retainText === "" ? this.options.retain : isTruthy(retainText);
    const payload = Buffer.from(
      request.data.buffer,
      request.data.byteOffset,
      request.data.byteLength,
    );
    await this.#send(request.topic, payload, retain);
  }

  async #send(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    if (topic === "" || /[+#]/.test(topic)) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `cannot publish to the topic filter ${JSON.stringify(topic)}`,
        {
          component: COMPONENT,
        },
      );
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#publisher.publishAsync(topic, payload, {
          qos: this.options.qos as 0 | 1 | 2,
          retain,
        }),
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
        {
          component: COMPONENT,
          cause: error,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    this.#assertOpen();
    if (request.signal?.aborted) return;
    if (!this.#consumerID) {
      throw new ConfigError([{ field: "consumerID", message: "is required to subscribe" }], {
        component: COMPONENT,
      });
    }
    const clientId = this.#clientIdFor(request.topic);
    await this.#closing.get(clientId);
    const sub = new Subscription(request.topic, clientId, handler, {
      url: this.#url,
      opts: this.options,
      logger: this.#logger,
      republish: (topic, payload) => this.#send(topic, payload, false),
    });
    this.#subscriptions.add(sub);
    try {
      await sub.start();
    } catch (error) {
      this.#subscriptions.delete(sub);
      await sub.stop();
      if (error instanceof ComponentError) throw error;
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `subscribe to ${request.topic} failed: ${errorMessage(error)}`,
        {
          component: COMPONENT,
          cause: error,
        },
      );
    }
    request.signal?.addEventListener("abort", () => void this.#stop(sub), { once: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#subscriptions].map((s) => this.#stop(s)));
    await this.#publisher.endAsync().catch(() => {});
  }

  #stop(sub: Subscription): Promise<void> {
    if (!this.#subscriptions.delete(sub))
      return this.#closing.get(sub.clientId) ?? Promise.resolve();
    const stopping = sub.stop().finally(() => {
      if (this.#closing.get(sub.clientId) === stopping) this.#closing.delete(sub.clientId);
    });
    this.#closing.set(sub.clientId, stopping);
    return stopping;
  }

  /**
   * `<consumerID>-<hash of the topic filter>`: stable across restarts, so a persistent session
   * finds its queued messages again, and distinct per filter within one consumer ID. A second
   * live subscription to the same filter gets a numbered suffix, since two connections with one
   * client ID would keep disconnecting each other.
   */
  #clientIdFor(filter: string): string {
    const base = `${this.#consumerID}-${createHash("sha256").update(filter).digest("hex").slice(0, 12)}`;
    const inUse = new Set([...this.#subscriptions].map((s) => s.clientId));
    let id = base;
    for (let n = 2; inUse.has(id); n++) id = `${base}-${n}`;
    return id;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ComponentError("ERR_CLOSED", "the component is closed", { component: COMPONENT });
    }
  }
}

export function createMqttPubSub(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<MqttPubSub> {
  return MqttPubSub.create(metadata, context);
}

export const pubsubDefinition: PubSubDefinition = {
  type: COMPONENT,
  kind: "pubsub",
  version: "v1",
  status: "beta",
  description:
    "MQTT 3.1.1 (Mosquitto, EMQX, VerneMQ, ...): QoS 0-2, persistent sessions, wildcards.",
  capabilities: CAPABILITIES,
  options: mqttOptions,
  create: createMqttPubSub,
};
