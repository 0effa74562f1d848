import { randomUUID } from "node:crypto";
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
  isTruthy,
  type Logger,
  type Metadata,
  notSupported,
  type OutputBinding,
  option,
  type ParsedOptions,
  silentLogger,
} from "@outrig/core";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { connectClient as connectWith } from "./connection.ts";

const COMPONENT = "bindings.mqtt3";
const CONNECT_TIMEOUT_MS = 10_000;
/** How long stopping a read waits for a running handler before it drops the connection anyway. */
const STOP_GRACE_MS = 5_000;

/** Dapr's `bindings.mqtt3` metadata names and defaults. */
export const mqttBindingOptions = defineOptions(COMPONENT, {
  url: option.string({
    required: true,
    sensitive: true,
    description:
      "Broker address: tcp://[user[:password]@]host[:port] (mqtt:// too); ssl://, mqtts:// or tls:// for TLS, ws:// and wss:// for WebSockets",
    example: "tcp://localhost:1883",
  }),
  topic: option.string({
    required: true,
    description:
      "Topic the output publishes to (request metadata `topic` overrides it) and the input subscribes to (MQTT wildcards allowed)",
    example: "orders/created",
  }),
  consumerID: option.string({
    description:
      "Client ID of the input's connection, so its persistent session (cleanSession=false) survives restarts; defaults to the app ID. The output connects as <consumerID>-producer-<random>",
  }),
  qos: option.integer({
    default: 1,
    min: 0,
    max: 2,
    description: "Quality of service for publishes and the subscription: 0, 1 or 2",
  }),
  retain: option.boolean({
    default: false,
    description: "Publish as retained (request metadata `retain` overrides it)",
  }),
  cleanSession: option.boolean({
    default: false,
    description:
      "Start the input's connection with a fresh session; false keeps the subscription and queued QoS 1/2 messages at the broker while the reader is away",
  }),
  backOffMaxRetries: option.integer({
    default: 0,
    min: -1,
    description:
      "In-process retries of a failed handler before the message is published again to its topic and acknowledged; -1 retries until it succeeds",
  }),
  backOffInitialInterval: option.duration({
    default: 100,
    description: "Pause before the first in-process retry; doubles on each further one",
  }),
  backOffMaxInterval: option.duration({
    default: 5_000,
    description: "Longest pause between in-process retries",
  }),
  caCert: option.string({ description: "PEM CA certificate to verify the broker" }),
  clientCert: option.string({ description: "PEM client certificate for mutual TLS" }),
  clientKey: option.string({ sensitive: true, description: "PEM private key of clientCert" }),
  direction: option.string({
    description: "Dapr's binding direction (`input`, `output` or `input, output`); informational",
  }),
});

export type MqttBindingOptions = ParsedOptions<typeof mqttBindingOptions.fields>;

function clientOptions(
  opts: MqttBindingOptions,
  clientId: string,
  clean: boolean,
  extra: Partial<IClientOptions> = {},
): IClientOptions {
  return {
    clientId,
    clean,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: CONNECT_TIMEOUT_MS,
    resubscribe: true,
    ...(opts.caCert ? { ca: opts.caCert } : {}),
    ...(opts.clientCert ? { cert: opts.clientCert } : {}),
    ...(opts.clientKey ? { key: opts.clientKey } : {}),
    ...extra,
  };
}

/** Connects and waits for CONNACK (see connection.ts); later errors are the reconnect loop's. */
async function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await connectWith(url, options, COMPONENT);
  client.on("error", () => {});
  return client;
}

/** One read: its own connection, its handler, and the acknowledgement held until it succeeds. */
class Reader {
  readonly #binding: MqttBinding;
  readonly #handler: BindingHandler;
  readonly #clientId: string;
  #client: MqttClient | undefined;
  #stopped = false;
  #current: Promise<unknown> = Promise.resolve();

  constructor(binding: MqttBinding, handler: BindingHandler, clientId: string) {
    this.#binding = binding;
    this.#handler = handler;
    this.#clientId = clientId;
  }

  async start(): Promise<void> {
    const { opts } = this.#binding;
    const client = await connectClient(
      this.#binding.url,
      clientOptions(opts, this.#clientId, opts.cleanSession, {
        customHandleAcks: (topic, message, packet: IPublishPacket, callback) => {
          // QoS 1 and 2: PUBACK/PUBREC waits for the handler (or the re-publish).
          this.#track(this.#process(topic, message, packet)).then((ack) => {
            if (ack) callback(0);
            else callback(new Error(`message on ${topic} left unacknowledged for redelivery`));
          });
        },
      }),
    );
    this.#client = client;
    const handleMessage = client.handleMessage.bind(client);
    client.handleMessage = (packet, callback) => {
      // QoS 0 has no acknowledgement; QoS 2 comes here again on PUBREL, already handled.
      if (packet.qos !== 0) return handleMessage(packet, callback);
      this.#track(this.#process(packet.topic.toString(), packet.payload as Buffer, packet)).then(
        () => callback(),
      );
    };
    try {
      const granted = await client.subscribeAsync(opts.topic, { qos: opts.qos as 0 | 1 | 2 });
      if (granted.some((g) => g.qos === 128)) {
        throw new Error(`the broker refused the subscription to ${opts.topic}`);
      }
    } catch (error) {
      await client.endAsync(true).catch(() => {});
      throw new ComponentError("ERR_UNAVAILABLE", `cannot subscribe: ${errorMessage(error)}`, {
        component: COMPONENT,
        cause: error,
      });
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#current = work;
    return work;
  }

  /** Resolves true once the message may be acknowledged. */
  async #process(topic: string, payload: Buffer, packet: IPublishPacket): Promise<boolean> {
    const { opts, logger } = this.#binding;
    const metadata: Metadata = { topic, ...(packet.retain ? { retained: "true" } : {}) };
    const data = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    let delay = opts.backOffInitialInterval;
    for (let attempt = 0; ; attempt++) {
      // A stopped reader acknowledges nothing more: the broker keeps the message.
      if (this.#stopped) return false;
      try {
        await this.#handler({ data, metadata: { ...metadata } });
        return true;
      } catch (error) {
        logger.debug("mqtt binding handler failed", { topic, attempt, error: errorMessage(error) });
      }
      if (opts.backOffMaxRetries !== -1 && attempt >= opts.backOffMaxRetries) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.backOffMaxInterval);
    }
    if (this.#stopped) return false;
    // MQTT has no negative ack: the message goes back to its topic, then this copy is acked.
    try {
      await this.#binding.publish(topic, payload, packet.retain);
      return true;
    } catch (error) {
      logger.warn("mqtt binding: re-publishing a failed message failed; it stays unacknowledged", {
        topic,
        error: errorMessage(error),
      });
      return false;
    }
  }

  /** Stops calling the handler, waits briefly for the one running, and disconnects. */
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

/**
 * `bindings.mqtt3`: input and output over MQTT 3.1.1. The output publishes `create` data to
 * `topic`; each read subscribes to `topic` on its own connection (client ID `consumerID`, then
 * `consumerID-2`, ... for further reads of one instance). The input acknowledges a QoS 1/2
 * message only after the handler succeeded; a handler that keeps failing (after
 * `backOffMaxRetries` in-process retries) gets the message published again to its topic before
 * the failed copy is acknowledged, so it is delivered again and never dropped.
 */
export class MqttBinding implements InputBinding, OutputBinding {
  readonly url: string;
  readonly opts: MqttBindingOptions;
  readonly logger: Logger;
  readonly #consumerID: string;
  readonly #readers = new Set<Reader>();
  #producer: Promise<MqttClient> | undefined;
  #reads = 0;
  #closed = false;

  constructor(opts: MqttBindingOptions, consumerID: string, logger: Logger = silentLogger) {
    this.opts = opts;
    this.url = opts.url;
    this.#consumerID = consumerID;
    this.logger = logger;
  }

  operations(): readonly string[] {
    return ["create"];
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    const producer = await this.#connectProducer();
    if (!producer.connected) {
      throw new ComponentError("ERR_UNAVAILABLE", "not connected to the broker", {
        component: COMPONENT,
      });
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    this.#assertOpen();
    if (request.operation.toLowerCase() !== "create") {
      throw notSupported(`operation ${JSON.stringify(request.operation)}`, COMPONENT);
    }
    const topic = getMetadata(request.metadata, "topic") || this.opts.topic;
    const retainText = getMetadata(request.metadata, "retain");
    const retain =
      retainText === undefined || retainText === "" ? this.opts.retain : isTruthy(retainText);
    await this.publish(topic, Buffer.from(request.data ?? new Uint8Array()), retain);
    return {};
  }

  /** Publishes on the producer connection; resolves when the broker acknowledged (QoS 1/2). */
  async publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    if (/[+#]/.test(topic)) {
      throw new ComponentError("ERR_INVALID_REQUEST", `cannot publish to a topic filter ${topic}`, {
        component: COMPONENT,
      });
    }
    const producer = await this.#connectProducer();
    try {
      await producer.publishAsync(topic, payload, { qos: this.opts.qos as 0 | 1 | 2, retain });
    } catch (error) {
      throw new ComponentError("ERR_UNAVAILABLE", `publish failed: ${errorMessage(error)}`, {
        component: COMPONENT,
        cause: error,
      });
    }
  }

  async read(handler: BindingHandler, signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    if (signal?.aborted) return;
    this.#reads++;
    const clientId = this.#reads === 1 ? this.#consumerID : `${this.#consumerID}-${this.#reads}`;
    const reader = new Reader(this, handler, clientId);
    this.#readers.add(reader);
    const stop = () => {
      this.#readers.delete(reader);
      void reader.stop();
    };
    try {
      await reader.start();
    } catch (error) {
      this.#readers.delete(reader);
      await reader.stop();
      throw error;
    }
    if (this.#closed) return stop();
    signal?.addEventListener("abort", stop, { once: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const readers = [...this.#readers];
    this.#readers.clear();
    await Promise.all(readers.map((r) => r.stop()));
    const producer = await this.#producer?.catch(() => undefined);
    await producer?.endAsync().catch(() => producer.endAsync(true));
  }

  #connectProducer(): Promise<MqttClient> {
    if (!this.#producer) {
      const clientId = `${this.#consumerID}-producer-${randomUUID().slice(0, 8)}`;
      this.#producer = connectClient(this.url, clientOptions(this.opts, clientId, true));
      this.#producer.catch(() => {
        this.#producer = undefined;
      });
    }
    return this.#producer;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ComponentError("ERR_CLOSED", "the binding is closed", { component: COMPONENT });
    }
  }
}

/**
 * Creates a `bindings.mqtt3` binding from Dapr metadata (`url`, `topic`, ...). The output's
 * connection is opened here, so a wrong address fails at init.
 */
export async function createMqttBinding(
  metadata: Metadata,
  context: ComponentContext = {},
): Promise<MqttBinding> {
  const opts = mqttBindingOptions.parse(metadata);
  const consumerID = opts.consumerID || context.appId || `outrig-${randomUUID().slice(0, 8)}`;
  const binding = new MqttBinding(opts, consumerID, context.logger);
  try {
    await binding.ping();
  } catch (error) {
    await binding.close();
    throw error;
  }
  return binding;
}

export const mqttBindingDefinition: BindingDefinition = {
  type: COMPONENT,
  kind: "bindings",
  version: "v1",
  status: "beta",
  description: "MQTT 3.1.1 topics as input (acknowledged after the handler) and output (create)",
  capabilities: ["create", "read"],
  directions: ["input", "output"],
  options: mqttBindingOptions,
  create: createMqttBinding,
};
