import { ComponentError, errorMessage, type Logger } from "@outrig/core";
import type { IPublishPacket, MqttClient } from "mqtt";
import { clientOptions, connectClient } from "./connection.ts";
import type { MqttSharedOptions } from "./options.ts";

/** How long `stop` waits for a running handler before it drops the connection anyway. */
const STOP_GRACE_MS = 5_000;

export interface ConsumerSettings {
  /** The component type errors and log lines are attributed to. */
  component: string;
  clientId: string;
  /** Topic filter; MQTT wildcards allowed. */
  filter: string;
  opts: MqttSharedOptions;
  logger: Logger;
  /** Hands one message to the component's handler; a rejection counts as a failure. */
  deliver: (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;
  /** Publishes a copy of a message that kept failing, so the broker delivers it again. */
  republish: (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;
}

/**
 * One topic filter on its own MQTT connection, for `pubsub.mqtt3` subscriptions and
 * `bindings.mqtt3` reads alike. mqtt.js handles incoming packets one at a time and sends PUBACK
 * (QoS 1) or PUBREC (QoS 2) only when our ack handler calls back, so the handler runs before the
 * broker is told the message arrived: a crash mid-handler leaves the message with the broker, which
 * sends it again to the same client ID (a persistent session, cleanSession=false).
 *
 * A connection per consumer keeps two things apart that one connection would mix up: a slow or
 * retrying handler holds back only its own filter, and a broker that sends one copy per matching
 * filter (overlapping wildcards) cannot hand a copy to the wrong handler.
 *
 * MQTT has no negative ack, so a failed message is retried in-process (backOffMaxRetries), then
 * published again to its topic and only then acknowledged, as Dapr's mqtt3 components do.
 */
export class Consumer {
  readonly clientId: string;
  readonly #settings: ConsumerSettings;
  #client: MqttClient | undefined;
  #stopped = false;
  #current: Promise<unknown> = Promise.resolve();

  constructor(settings: ConsumerSettings) {
    this.clientId = settings.clientId;
    this.#settings = settings;
  }

  /** Connects and subscribes; fails with ERR_UNAVAILABLE when either is refused. */
  async start(): Promise<void> {
    const { opts, filter, component, logger } = this.#settings;
    const client = await connectClient(
      opts.url,
      clientOptions(opts, this.clientId, opts.cleanSession, {
        customHandleAcks: (topic, message, packet: IPublishPacket, callback) => {
          // QoS 1 and 2: the acknowledgement waits for the handler (or the re-publish).
          this.#track(this.#process(topic, message, packet)).then((ack) => {
            if (ack) callback(0);
            else callback(new Error(`message on ${topic} left unacknowledged for redelivery`));
          });
        },
      }),
      component,
    );
    this.#client = client;
    client.on("error", (error) =>
      logger.debug("mqtt consumer connection error", { filter, error: errorMessage(error) }),
    );
    const handleMessage = client.handleMessage.bind(client);
    client.handleMessage = (packet, callback) => {
      // QoS 0 has no acknowledgement: it is handled here. QoS 2 arrives here again on PUBREL,
      // after the ack handler already ran it.
      if (packet.qos !== 0) return handleMessage(packet, callback);
      this.#track(this.#process(packet.topic.toString(), packet.payload as Buffer, packet)).then(
        () => callback(),
      );
    };
    try {
      const granted = await client.subscribeAsync(filter, { qos: opts.qos as 0 | 1 | 2 });
      if (granted.some((g) => g.qos === 128)) {
        throw new Error(`the broker refused the subscription to ${filter}`);
      }
    } catch (error) {
      await client.endAsync(true).catch(() => {});
      throw new ComponentError(
        "ERR_UNAVAILABLE",
        `subscribe to ${filter} failed: ${errorMessage(error)}`,
        { component, cause: error },
      );
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#current = work;
    return work;
  }

  /** Resolves true once the message may be acknowledged. */
  async #process(topic: string, payload: Buffer, packet: IPublishPacket): Promise<boolean> {
    const { opts, logger, component } = this.#settings;
    let delay = opts.backOffInitialInterval;
    for (let attempt = 0; ; attempt++) {
      // A stopped consumer acknowledges nothing more: the broker keeps the message.
      if (this.#stopped) return false;
      try {
        await this.#settings.deliver(topic, payload, packet);
        return true;
      } catch (error) {
        logger.debug("mqtt handler failed", {
          component,
          topic,
          attempt,
          error: errorMessage(error),
        });
      }
      if (opts.backOffMaxRetries !== -1 && attempt >= opts.backOffMaxRetries) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.backOffMaxInterval);
    }
    if (this.#stopped) return false;
    try {
      await this.#settings.republish(topic, payload, packet);
      return true;
    } catch (error) {
      logger.warn("mqtt re-publish of a failed message failed; it stays unacknowledged", {
        component,
        topic,
        error: errorMessage(error),
      });
      return false;
    }
  }

  /**
   * Stops handing out messages, waits briefly for the handler that runs, and disconnects. With
   * cleanSession=false the broker keeps the subscription and queues QoS 1/2 messages for this
   * client ID until it comes back.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = () =>
      new Promise((r) => {
        timer = setTimeout(r, STOP_GRACE_MS);
      });
    await Promise.race([this.#current.catch(() => {}), grace()]);
    clearTimeout(timer);
    await Promise.race([client.endAsync(), grace()]);
    clearTimeout(timer);
    if (!client.disconnected) await client.endAsync(true).catch(() => {});
  }
}

/** A payload as the plain bytes handlers get, over the same memory. */
export function asBytes(payload: Buffer): Uint8Array {
  return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
}
