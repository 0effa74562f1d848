import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  ComponentError,
  defineOptions,
  errorMessage,
  getMetadata,
  type InputBinding,
  type InvokeRequest,
  type InvokeResponse,
  type Logger,
  type Metadata,
  notSupported,
  type OutputBinding,
  option,
  type ParsedOptions,
  parseDuration,
  silentLogger,
} from "@outrig/core";
import amqp, {
  type Channel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from "amqplib";
import { connectError, tlsSocketOptions } from "./connection.ts";
import { recoveringConnection } from "./recovery.ts";

const COMPONENT = "bindings.rabbitmq";
/** A failed message goes back to the queue after this pause, so a poison message cannot spin. */
const REQUEUE_DELAY_MS = 100;
/** How long an invoke waits for a (re)connection before it gives up as unavailable. */
const CONNECT_WAIT_MS = 15_000;

/** Dapr's `bindings.rabbitmq` metadata names and defaults. */
export const rabbitmqBindingOptions = defineOptions(COMPONENT, {
  host: option.string({
    required: true,
    sensitive: true,
    aliases: ["connectionString"],
    description: "AMQP URL of the broker: amqp://user:password@host:5672/vhost (amqps:// for TLS)",
    example: "amqp://guest:guest@localhost:5672",
  }),
  queueName: option.string({
    required: true,
    description:
      "The queue the output publishes to (through the default exchange) and the input consumes; declared by both sides",
    example: "orders",
  }),
  durable: option.boolean({
    default: false,
    description:
      "Declare the queue durable and publish persistent messages, so both survive a broker restart",
  }),
  deleteWhenUnused: option.boolean({
    default: false,
    description:
      "Declare the queue auto-delete: the broker deletes it when its last consumer leaves",
  }),
  exclusive: option.boolean({
    default: false,
    description: "Declare the queue exclusive to the connection that declared it",
  }),
  ttlInSeconds: option.integer({
    min: 1,
    description:
      "Queue-wide message TTL (x-message-ttl); a message can override it with ttlInSeconds request metadata",
  }),
  maxPriority: option.integer({
    min: 1,
    max: 255,
    description:
      "Makes the queue a priority queue (x-max-priority); messages set `priority` request metadata",
  }),
  prefetchCount: option.integer({
    default: 0,
    min: 0,
    description: "Unacknowledged messages one reader may hold (basic.qos); 0 means no limit",
  }),
  contentType: option.string({
    default: "text/plain",
    description: "Content type of published messages unless the request metadata sets contentType",
  }),
  reconnectWait: option.duration({
    default: 5_000,
    description: "Upper bound of the delay between reconnect attempts after the connection drops",
  }),
  direction: option.string({
    description: "Dapr's binding direction (`input`, `output` or `input, output`); informational",
  }),
  externalSasl: option.boolean({
    default: false,
    description: "Authenticate with the TLS client certificate (SASL EXTERNAL); needs clientCert",
  }),
  caCert: option.string({ description: "PEM CA certificate to verify the broker (amqps)" }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS (amqps)" }),
  clientKey: option.string({ description: "PEM private key of clientCert", sensitive: true }),
});

export type RabbitMQBindingOptions = ParsedOptions<typeof rabbitmqBindingOptions.fields>;

function queueArguments(opts: RabbitMQBindingOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (opts.ttlInSeconds !== undefined) args["x-message-ttl"] = opts.ttlInSeconds * 1000;
  if (opts.maxPriority !== undefined) args["x-max-priority"] = opts.maxPriority;
  return args;
}

/** One read: a channel with one consumer; restarted on every reconnect. */
class Reader {
  readonly #binding: RabbitMQBinding;
  readonly #handler: BindingHandler;
  #channel: Channel | undefined;
  #stopped = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(binding: RabbitMQBinding, handler: BindingHandler) {
    this.#binding = binding;
    this.#handler = handler;
  }

  async start(): Promise<void> {
    if (this.#stopped) return;
    const { opts } = this.#binding;
    const ch = await this.#binding.connection.createChannel();
    ch.on("error", () => {});
    this.#channel = ch;
    await this.#binding.declare(ch);
    if (opts.prefetchCount > 0) await ch.prefetch(opts.prefetchCount);
    await ch.consume(opts.queueName, (msg) => {
      if (!msg) return;
      const work = this.#handle(ch, msg);
      this.#inFlight.add(work);
      void work.finally(() => this.#inFlight.delete(work));
    });
  }

  async #handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    // A stopped reader hands out nothing more; the message goes back to the queue.
    if (this.#stopped) {
      try {
        ch.nack(msg, false, true);
      } catch {}
      return;
    }
    const metadata: Metadata = {};
    for (const [k, v] of Object.entries(msg.properties.headers ?? {})) {
      if (v !== undefined && v !== null) metadata[k] = typeof v === "string" ? v : String(v);
    }
    const { contentType, messageId, priority } = msg.properties;
    if (messageId) metadata.messageId = String(messageId);
    if (priority !== undefined) metadata.priority = String(priority);
    if (msg.fields.redelivered) metadata.redelivered = "true";
    try {
      await this.#handler({
        data: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
        metadata,
        ...(contentType ? { contentType: String(contentType) } : {}),
      });
      ch.ack(msg);
    } catch (error) {
      this.#binding.logger.debug("rabbitmq binding handler failed; the message is requeued", {
        queue: this.#binding.opts.queueName,
        error: errorMessage(error),
      });
      await new Promise((r) => setTimeout(r, REQUEUE_DELAY_MS));
      try {
        ch.nack(msg, false, true);
      } catch {
        // The channel is gone: the broker requeues every unacknowledged message by itself.
      }
    }
  }

  /** Cancels the consumer, lets handlers in flight settle, closes the channel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const ch = this.#channel;
    this.#channel = undefined;
    await Promise.allSettled([...this.#inFlight]);
    await ch?.close().catch(() => {});
  }

  /** After a reconnect: the old channel died with its connection. */
  restart(): void {
    this.#channel = undefined;
    if (this.#stopped) return;
    this.#binding.logger.debug("rabbitmq binding: resuming a reader after a reconnect");
    this.start().catch((error) =>
      this.#binding.logger.warn("rabbitmq binding: restarting a reader failed", {
        error: errorMessage(error),
      }),
    );
  }
}

/**
 * `bindings.rabbitmq`: input and output on one queue. `create` publishes to `queueName` through the
 * default exchange with publisher confirms (persistent when `durable`), taking `ttlInSeconds` (or
 * `ttl`), `priority`, `contentType` and `messageId` request metadata; other request metadata
 * become message headers. A read consumes the queue with manual acknowledgements: a message is
 * acked after its handler succeeded and nacked with requeue when it throws, so the broker
 * delivers it again.
 */
export class RabbitMQBinding implements InputBinding, OutputBinding {
  readonly opts: RabbitMQBindingOptions;
  readonly connection: RecoveringChannelModel;
  readonly logger: Logger;
  readonly #readers = new Set<Reader>();
  #publisher: Promise<ConfirmChannel> | undefined;
  #connected = true;
  #closed = false;

  constructor(connection: RecoveringChannelModel, opts: RabbitMQBindingOptions, logger: Logger) {
    this.connection = connection;
    this.opts = opts;
    this.logger = logger;
    connection.on("error", (error: Error) =>
      logger.warn("rabbitmq binding connection error", { error: errorMessage(error) }),
    );
    connection.on("disconnect", () => {
      this.#connected = false;
      this.#publisher = undefined;
    });
    connection.on("connect", () => {
      const wasDown = !this.#connected;
      this.#connected = true;
      if (wasDown) for (const reader of this.#readers) reader.restart();
    });
  }

  operations(): readonly string[] {
    return ["create"];
  }

  /** Declares the queue with the configured flags (idempotent when they match). */
  async declare(ch: Channel): Promise<void> {
    await ch.assertQueue(this.opts.queueName, {
      durable: this.opts.durable,
      autoDelete: this.opts.deleteWhenUnused,
      exclusive: this.opts.exclusive,
      arguments: queueArguments(this.opts),
    });
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    if (!this.#connected) {
      throw new ComponentError("ERR_UNAVAILABLE", "not connected to the broker", {
        component: COMPONENT,
      });
    }
    const ch = await this.#channel();
    await ch.checkQueue(this.opts.queueName);
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    this.#assertOpen();
    if (request.operation.toLowerCase() !== "create") {
      throw notSupported(`operation ${JSON.stringify(request.operation)}`, COMPONENT);
    }
    const metadata = request.metadata ?? {};
    const options = this.#publishOptions(metadata);
    const content = Buffer.from(request.data ?? new Uint8Array());
    let ch: ConfirmChannel;
    try {
      ch = await this.#channel();
    } catch (error) {
      throw new ComponentError("ERR_UNAVAILABLE", `cannot open a channel: ${errorMessage(error)}`, {
        component: COMPONENT,
        cause: error,
      });
    }
    await new Promise<void>((resolve, reject) => {
      try {
        ch.publish("", this.opts.queueName, content, options, (error: unknown) => {
          if (error) {
            reject(
              new ComponentError("ERR_UNAVAILABLE", "the broker did not confirm the message", {
                component: COMPONENT,
                cause: error,
              }),
            );
          } else resolve();
        });
      } catch (error) {
        this.#publisher = undefined;
        reject(
          new ComponentError("ERR_UNAVAILABLE", `publish failed: ${errorMessage(error)}`, {
            component: COMPONENT,
            cause: error,
          }),
        );
      }
    });
    return {};
  }

  #publishOptions(metadata: Metadata): amqp.Options.Publish {
    const headers: Record<string, string> = {};
    const reserved = new Set(["ttlinseconds", "ttl", "priority", "contenttype", "messageid"]);
    for (const [k, v] of Object.entries(metadata)) {
      if (!reserved.has(k.toLowerCase())) headers[k] = v;
    }
    const options: amqp.Options.Publish = {
      persistent: this.opts.durable,
      contentType: getMetadata(metadata, "contentType") || this.opts.contentType,
      headers,
    };
    const messageId = getMetadata(metadata, "messageId");
    if (messageId) options.messageId = messageId;
    const ttlText = getMetadata(metadata, "ttlInSeconds") || getMetadata(metadata, "ttl");
    if (ttlText) {
      const ms = parseDuration(ttlText);
      if (ms === undefined || ms <= 0) {
        throw new ComponentError(
          "ERR_INVALID_REQUEST",
          `ttlInSeconds must be a positive number of seconds or a duration, got ${JSON.stringify(ttlText)}`,
          { component: COMPONENT },
        );
      }
      options.expiration = String(Math.round(ms));
    }
    const priorityText = getMetadata(metadata, "priority");
    if (priorityText) {
      const priority = Number(priorityText);
      if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
        throw new ComponentError("ERR_INVALID_REQUEST", "priority must be an integer 0-255", {
          component: COMPONENT,
        });
      }
      options.priority = priority;
    }
    return options;
  }

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (signal?.aborted) return;
    const reader = new Reader(this, handler);
    this.#readers.add(reader);
    try {
      await reader.start();
    } catch (error) {
      this.#readers.delete(reader);
      await reader.stop();
      throw new ComponentError("ERR_UNAVAILABLE", `cannot consume: ${errorMessage(error)}`, {
        component: COMPONENT,
        cause: error,
      });
    }
    signal?.addEventListener(
      "abort",
      () => {
        this.#readers.delete(reader);
        void reader.stop();
      },
      { once: true },
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const readers = [...this.#readers];
    this.#readers.clear();
    await Promise.all(readers.map((r) => r.stop()));
    await this.connection.close().catch(() => {});
  }

  #channel(): Promise<ConfirmChannel> {
    if (!this.#publisher) {
      const opening = (async () => {
        if (!this.#connected) await this.#waitForConnection();
        const ch = await this.connection.createConfirmChannel();
        ch.on("error", () => {});
        ch.on("close", () => {
          if (this.#publisher === opening) this.#publisher = undefined;
        });
        await this.declare(ch);
        return ch;
      })();
      this.#publisher = opening;
      opening.catch(() => {
        if (this.#publisher === opening) this.#publisher = undefined;
      });
    }
    return this.#publisher;
  }

  #waitForConnection(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.connection.removeListener("connect", onConnect);
        reject(new Error(`no connection within ${CONNECT_WAIT_MS} ms`));
      }, CONNECT_WAIT_MS);
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.connection.once("connect", onConnect);
    });
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ComponentError("ERR_CLOSED", "the binding is closed", { component: COMPONENT });
    }
  }
}

/**
 * Creates a `bindings.rabbitmq` binding from Dapr metadata (`host`, `queueName`, ...): connects,
 * declares the queue, and keeps reconnecting (readers resume) if the connection drops later.
 */
export async function createRabbitMQBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<RabbitMQBinding> {
  const opts = rabbitmqBindingOptions.parse(metadata);
  const target = {
    connectionString: opts.host,
    caCert: opts.caCert,
    clientCert: opts.clientCert,
    clientKey: opts.clientKey,
    saslExternal: opts.externalSasl,
  };
  const connection = await amqp.connect(opts.host, {
    ...tlsSocketOptions(target, amqp.credentials.external(), COMPONENT),
    ...recoveringConnection(opts.reconnectWait),
  });
  const binding = new RabbitMQBinding(connection, opts, context.logger ?? silentLogger);
  try {
    await connection.waitForConnect();
    await binding.ping();
  } catch (error) {
    await binding.close();
    if (error instanceof ComponentError) throw error;
    throw connectError(error, target, COMPONENT);
  }
  return binding;
}

export const rabbitmqBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description:
    "A RabbitMQ queue as input (ack after the handler, requeue on failure) and output (create)",
  capabilities: ["create", "read"],
  directions: ["input", "output"],
  options: rabbitmqBindingOptions,
  create: createRabbitMQBinding,
};
