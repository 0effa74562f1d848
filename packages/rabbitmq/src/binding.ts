import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  ComponentError,
  errorMessage,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Logger,
  type Metadata,
  parseDuration,
  silentLogger,
} from "@outrig/core";
import { BaseBinding, componentErrors, type StopFunction } from "@outrig/core/kit";
import amqp, {
  type Channel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from "amqplib";
import { connectError, tlsSocketOptions } from "./connection.ts";
import { Consumer, type Outcome } from "./consumer.ts";
import { type RabbitMQBindingOptions, rabbitmqBindingOptions } from "./options.ts";
import { recoveringConnection } from "./recovery.ts";

const COMPONENT = "bindings.rabbitmq";
const errors = componentErrors(COMPONENT);
/** A failed message goes back to the queue after this pause, so a poison message cannot spin. */
const REQUEUE_DELAY_MS = 100;
/** How long an invoke waits for a (re)connection before it gives up as unavailable. */
const CONNECT_WAIT_MS = 15_000;

function queueArguments(opts: RabbitMQBindingOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (opts.ttlInSeconds !== undefined) args["x-message-ttl"] = opts.ttlInSeconds * 1000;
  if (opts.maxPriority !== undefined) args["x-max-priority"] = opts.maxPriority;
  return args;
}

/**
 * `bindings.rabbitmq`: input and output on one queue. `create` publishes to `queueName` through the
 * default exchange with publisher confirms (persistent when `durable`), taking `ttlInSeconds` (or
 * `ttl`), `priority`, `contentType` and `messageId` request metadata; other request metadata
 * become message headers. A read consumes the queue with manual acknowledgements: a message is
 * acked after its handler succeeded and nacked with requeue when it throws, so the broker
 * delivers it again.
 */
export class RabbitMQBinding extends BaseBinding {
  readonly componentType = COMPONENT;
  readonly opts: RabbitMQBindingOptions;
  readonly connection: RecoveringChannelModel;
  readonly logger: Logger;
  readonly #readers = new Set<Consumer>();
  #publisher: Promise<ConfirmChannel> | undefined;
  #connected = true;

  constructor(connection: RecoveringChannelModel, opts: RabbitMQBindingOptions, logger: Logger) {
    super();
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
      if (wasDown) for (const reader of this.#readers) this.#resume(reader);
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

  protected override async onPing(): Promise<void> {
    if (!this.#connected) {
      throw errors.error("ERR_UNAVAILABLE", "not connected to the broker");
    }
    const ch = await this.#channel();
    await ch.checkQueue(this.opts.queueName);
  }

  /** `create`, the only operation, publishes to the queue. */
  protected async invokeOperation(
    _operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    const metadata = request.metadata ?? {};
    const options = this.#publishOptions(metadata);
    const content = Buffer.from(request.data ?? new Uint8Array());
    let ch: ConfirmChannel;
    try {
      ch = await this.#channel();
    } catch (error) {
      throw errors.error("ERR_UNAVAILABLE", `cannot open a channel: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    await new Promise<void>((resolve, reject) => {
      try {
        ch.publish("", this.opts.queueName, content, options, (error: unknown) => {
          if (error) {
            reject(
              errors.error("ERR_UNAVAILABLE", "the broker did not confirm the message", {
                cause: error,
              }),
            );
          } else resolve();
        });
      } catch (error) {
        this.#publisher = undefined;
        reject(
          errors.error("ERR_UNAVAILABLE", `publish failed: ${errorMessage(error)}`, {
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
        throw errors.error(
          "ERR_INVALID_REQUEST",
          `ttlInSeconds must be a positive number of seconds or a duration, got ${JSON.stringify(ttlText)}`,
        );
      }
      options.expiration = String(Math.round(ms));
    }
    const priorityText = getMetadata(metadata, "priority");
    if (priorityText) {
      const priority = Number(priorityText);
      if (!Number.isInteger(priority) || priority < 0 || priority > 255) {
        throw errors.error("ERR_INVALID_REQUEST", "priority must be an integer 0-255");
      }
      options.priority = priority;
    }
    return options;
  }

  protected async startReading(handler: BindingHandler): Promise<StopFunction> {
    const reader = new Consumer({
      queue: this.opts.queueName,
      declare: (ch) => this.declare(ch),
      prefetch: this.opts.prefetchCount,
      noAck: false,
      sequential: false,
      logger: this.logger,
      label: { queue: this.opts.queueName },
      handle: (msg) => this.#handle(handler, msg),
    });
    this.#readers.add(reader);
    try {
      await reader.start(this.connection);
    } catch (error) {
      this.#readers.delete(reader);
      await reader.stop();
      throw errors.error("ERR_UNAVAILABLE", `cannot consume: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return () => {
      this.#readers.delete(reader);
      return reader.stop();
    };
  }

  /** Acks after the handler succeeded; a failure goes back to the queue after a pause. */
  async #handle(handler: BindingHandler, msg: ConsumeMessage): Promise<Outcome> {
    const metadata: Metadata = {};
    for (const [k, v] of Object.entries(msg.properties.headers ?? {})) {
      if (v !== undefined && v !== null) metadata[k] = typeof v === "string" ? v : String(v);
    }
    const { contentType, messageId, priority } = msg.properties;
    if (messageId) metadata.messageId = String(messageId);
    if (priority !== undefined) metadata.priority = String(priority);
    if (msg.fields.redelivered) metadata.redelivered = "true";
    try {
      await handler({
        data: new Uint8Array(msg.content.buffer, msg.content.byteOffset, msg.content.byteLength),
        metadata,
        ...(contentType ? { contentType: String(contentType) } : {}),
      });
      return "ack";
    } catch (error) {
      this.logger.debug("rabbitmq binding handler failed; the message is requeued", {
        queue: this.opts.queueName,
        error: errorMessage(error),
      });
      await new Promise((r) => setTimeout(r, REQUEUE_DELAY_MS));
      return "requeue";
    }
  }

  /** After a reconnect: the old channel died with its connection. */
  #resume(reader: Consumer): void {
    if (reader.running) return;
    this.logger.debug("rabbitmq binding: resuming a reader after a reconnect");
    reader.start(this.connection).catch((error: unknown) =>
      this.logger.warn("rabbitmq binding: restarting a reader failed", {
        error: errorMessage(error),
      }),
    );
  }

  protected override async onClose(): Promise<void> {
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
