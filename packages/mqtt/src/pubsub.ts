import { createHash, randomUUID } from "node:crypto";
import {
  type ComponentContext,
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
import { BasePubSub, type StopFunction } from "@outrig/core/kit";
import { asBytes, Consumer } from "./consumer.ts";
import { type MqttOptions, mqttOptions } from "./options.ts";
import { asBuffer, Producer, retainOf } from "./producer.ts";

const COMPONENT = "pubsub.mqtt3";
const CAPABILITIES: readonly PubSubCapability[] = ["SUBSCRIBE_WILDCARDS", "ORDERING"];

/**
 * Dapr's `pubsub.mqtt3` over mqtt.js (MQTT 3.1.1): one publisher connection, and one connection
 * per subscription whose acknowledgement waits for the handler.
 */
export class MqttPubSub extends BasePubSub {
  readonly componentType = COMPONENT;
  readonly capabilities: ReadonlySet<PubSubCapability> = new Set(CAPABILITIES);
  readonly options: MqttOptions;
  readonly #producer: Producer;
  readonly #consumerID: string | undefined;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Consumer>();
  /** Client IDs whose previous connection is still closing; a new one must wait, or it is kicked. */
  readonly #closing = new Map<string, Promise<void>>();

  private constructor(
    opts: MqttOptions,
    producer: Producer,
    consumerID: string | undefined,
    logger: Logger,
  ) {
    super();
    this.options = opts;
    this.#producer = producer;
    this.#consumerID = consumerID;
    this.#logger = logger;
  }

  static async create(metadata: Metadata, context: ComponentContext = {}): Promise<MqttPubSub> {
    const opts = mqttOptions.parse(metadata);
    const consumerID = opts.consumerID ?? context.appId;
    const producerID =
      opts.producerID ?? (consumerID ? `${consumerID}-producer` : `outrig-${randomUUID()}`);
    const logger = context.logger ?? silentLogger;
    const producer = new Producer(opts, producerID, COMPONENT, logger);
    await producer.connect();
    return new MqttPubSub(opts, producer, consumerID, logger);
  }

  protected override async onPing(): Promise<void> {
    await this.#producer.ping();
  }

  protected async publishMessage(request: PublishRequest): Promise<void> {
    // MQTT 3.1.1 has no message expiry; the value is still validated like everywhere else.
    parseTtlInSeconds(request.metadata);
    await this.#producer.publish(
      request.topic,
      asBuffer(request.data),
      retainOf(request.metadata, this.options.retain),
    );
  }

  protected async startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction> {
    if (!this.#consumerID) {
      throw this.errors.config([{ field: "consumerID", message: "is required to subscribe" }]);
    }
    const clientId = this.#clientIdFor(request.topic);
    await this.#closing.get(clientId);
    const sub = new Consumer({
      component: COMPONENT,
      clientId,
      filter: request.topic,
      opts: this.options,
      logger: this.#logger,
      deliver: (topic, payload, packet) =>
        handler({
          topic,
          data: asBytes(payload),
          metadata: packet.retain ? { retained: "true" } : {},
        }),
      republish: (topic, payload) => this.#producer.publish(topic, payload, false),
    });
    this.#subscriptions.add(sub);
    try {
      await sub.start();
    } catch (error) {
      this.#subscriptions.delete(sub);
      await sub.stop();
      throw error;
    }
    return () => this.#stop(sub);
  }

  protected override async onClose(): Promise<void> {
    await this.#producer.close();
  }

  #stop(sub: Consumer): Promise<void> {
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
