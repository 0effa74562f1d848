import {
  errorMessage,
  type Logger,
  type MessageHandler,
  type Metadata,
  type PubSubMessage,
} from "@outrig/core";
import type { IPublishPacket, MqttClient } from "mqtt";
import { clientOptions, connectClient } from "./connection.ts";
import type { MqttOptions } from "./options.ts";

/** How long `stop` waits for a running handler before it drops the connection anyway. */
const STOP_GRACE_MS = 5_000;

export interface SubscriptionDeps {
  url: string;
  opts: MqttOptions;
  logger: Logger;
  /** Publishes a copy of a message that kept failing, so the broker delivers it again. */
  republish: (topic: string, payload: Buffer) => Promise<void>;
}

/**
 * One topic filter on its own MQTT connection. mqtt.js handles incoming packets one at a time and
 * sends PUBACK (QoS 1) or PUBREC (QoS 2) only when our ack handler calls back, so the handler runs
 * before the broker is told the message arrived: a crash mid-handler leaves the message with the
 * broker, which sends it again to the same client ID (a persistent session, cleanSession=false).
 *
 * A connection per subscription keeps two things apart that one connection would mix up: a slow
 * or retrying handler holds back only its own filter, and a broker that sends one copy per
 * matching filter (overlapping wildcards) cannot hand a copy to the wrong handler.
 *
 * MQTT has no negative ack, so a failed message is retried in-process (backOffMaxRetries), then
 * published again to its topic and only then acknowledged, as Dapr's pubsub.mqtt3 does.
 */
export class Subscription {
  readonly filter: string;
  readonly clientId: string;
  readonly #handler: MessageHandler;
  readonly #deps: SubscriptionDeps;
  #client: MqttClient | undefined;
  #stopped = false;
  #current: Promise<unknown> = Promise.resolve();

  constructor(filter: string, clientId: string, handler: MessageHandler, deps: SubscriptionDeps) {
    this.filter = filter;
    this.clientId = clientId;
    this.#handler = handler;
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { opts } = this.#deps;
    const client = await connectClient(
      this.#deps.url,
      clientOptions(opts, this.clientId, opts.cleanSession, {
        customHandleAcks: (topic, message, packet: IPublishPacket, callback) => {
          // QoS 1 and 2: the acknowledgement waits for the handler.
          this.#track(this.#process(topic, message, packet)).then((ack) => {
            if (ack) callback(0);
            else callback(new Error(`message on ${topic} left unacknowledged for redelivery`));
          });
        },
      }),
    );
    this.#client = client;
    client.on("error", (error) =>
      this.#deps.logger.debug("mqtt subscriber", {
        filter: this.filter,
        error: errorMessage(error),
      }),
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
      const granted = await client.subscribeAsync(this.filter, { qos: opts.qos as 0 | 1 | 2 });
      if (granted.some((g) => g.qos === 128)) {
        throw new Error(`the broker refused the subscription to ${this.filter}`);
      }
    } catch (error) {
      await client.endAsync(true).catch(() => {});
      throw error;
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#current = work;
    return work;
  }

  /** Resolves true once the message may be acknowledged. */
  async #process(topic: string, payload: Buffer, packet: IPublishPacket): Promise<boolean> {
    const { opts, logger } = this.#deps;
    const metadata: Metadata = packet.retain ? { retained: "true" } : {};
    const message: PubSubMessage = {
      topic,
      data: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
      metadata,
    };
    let delay = opts.backOffInitialInterval;
    for (let attempt = 0; ; attempt++) {
      // A stopped subscription acknowledges nothing more: the broker keeps the message.
      if (this.#stopped) return false;
      try {
        await this.#handler(message);
        return true;
      } catch (error) {
        logger.debug("mqtt handler failed", { topic, attempt, error: errorMessage(error) });
      }
      if (opts.backOffMaxRetries !== -1 && attempt >= opts.backOffMaxRetries) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.backOffMaxInterval);
    }
    if (this.#stopped) return false;
    try {
      await this.#deps.republish(topic, payload);
      return true;
    } catch (error) {
      logger.warn("mqtt re-publish of a failed message failed; it stays unacknowledged", {
        topic,
        error: errorMessage(error),
      });
      return false;
    }
  }

  /**
   * Stops handing out messages and disconnects. With cleanSession=false the broker keeps the
   * subscription and queues QoS 1/2 messages for this client ID until it comes back.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#current.catch(() => {}),
      new Promise((r) => {
        timer = setTimeout(r, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    await Promise.race([
      client.endAsync(),
      new Promise((r) => {
        timer = setTimeout(r, STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!client.disconnected) await client.endAsync(true).catch(() => {});
  }
}
