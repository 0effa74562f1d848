import { errorMessage, type Logger } from "@outrig/core";
import type { Channel, ConsumeMessage, RecoveringChannelModel } from "amqplib";

/** What becomes of a delivered message once the component's handler settled. */
export type Outcome = "ack" | "requeue" | "drop";

export interface ConsumerSpec {
  queue: string;
  /** Declares the exchanges, queues and bindings the consumer needs, on its own channel. */
  declare: (ch: Channel) => Promise<void>;
  /** Unacknowledged messages the broker may push (basic.qos); 0 means no limit. */
  prefetch: number;
  /** The broker acknowledges on sending; nothing is settled here then. */
  noAck: boolean;
  /** One message at a time in queue order, instead of as they arrive. */
  sequential: boolean;
  /** Runs the component's handler for one message and says how to settle it. */
  handle: (msg: ConsumeMessage) => Promise<Outcome>;
  logger: Logger;
  /** Names the consumer in log lines (topic or queue). */
  label: Record<string, string>;
}

/**
 * One consumer on a channel of its own, for `pubsub.rabbitmq` subscriptions and
 * `bindings.rabbitmq` reads alike. The channel dies with the connection, so `start` is called again
 * after every reconnect; unacknowledged messages of the dead channel are requeued by the broker.
 */
export class Consumer {
  readonly spec: ConsumerSpec;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #starting: Promise<void> | undefined;
  #stopped = false;
  /** In sequential mode deliveries queue up behind this promise, so they run one at a time. */
  #chain: Promise<void> = Promise.resolve();
  readonly #inflight = new Set<Promise<void>>();

  constructor(spec: ConsumerSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return this.#channel !== undefined;
  }

  start(connection: RecoveringChannelModel): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#starting ??= this.#start(connection).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(connection: RecoveringChannelModel): Promise<void> {
    const { spec } = this;
    const ch = await connection.createChannel();
    ch.on("error", (error: Error) => {
      spec.logger.warn("rabbitmq consumer channel error", {
        ...spec.label,
        error: errorMessage(error),
      });
    });
    ch.on("close", () => {
      if (this.#channel === ch) this.#channel = undefined;
    });
    try {
      await spec.declare(ch);
      if (spec.prefetch > 0) await ch.prefetch(spec.prefetch);
      const { consumerTag } = await ch.consume(
        spec.queue,
        (msg) => {
          if (msg) this.#onMessage(ch, msg);
        },
        { noAck: spec.noAck },
      );
      if (this.#stopped) {
        await ch.close().catch(() => {});
        return;
      }
      this.#channel = ch;
      this.#consumerTag = consumerTag;
    } catch (error) {
      await ch.close().catch(() => {});
      throw error;
    }
  }

  #onMessage(ch: Channel, msg: ConsumeMessage): void {
    const run = (): Promise<void> => this.#deliver(ch, msg);
    let done: Promise<void>;
    if (this.spec.sequential) {
      this.#chain = this.#chain.then(run);
      done = this.#chain;
    } else {
      done = run();
    }
    this.#inflight.add(done);
    void done.finally(() => this.#inflight.delete(done));
  }

  async #deliver(ch: Channel, msg: ConsumeMessage): Promise<void> {
    // A stopped consumer hands out nothing more; the message goes back to the queue (unless the
    // broker already counts it delivered: then the handler is its only chance).
    const outcome: Outcome =
      this.#stopped && !this.spec.noAck ? "requeue" : await this.spec.handle(msg);
    if (this.spec.noAck) return;
    // A channel closed by a broker restart cannot settle any more; the broker requeues the
    // message itself, so a failed ack here is not a loss.
    try {
      if (outcome === "ack") ch.ack(msg);
      else ch.nack(msg, false, outcome === "requeue");
    } catch {}
  }

  /** Cancels the consumer, lets in-flight handlers settle (and ack), then closes the channel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#starting?.catch(() => {});
    const ch = this.#channel;
    this.#channel = undefined;
    if (!ch) return;
    if (this.#consumerTag) await ch.cancel(this.#consumerTag).catch(() => {});
    await Promise.allSettled([...this.#inflight]);
    await ch.close().catch(() => {});
  }
}
