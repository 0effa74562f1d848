import { randomUUID } from "node:crypto";
import {
  type BindingDefinition,
  type BindingHandler,
  type ComponentContext,
  getMetadata,
  type InvokeRequest,
  type InvokeResponse,
  type Logger,
  type Metadata,
  silentLogger,
} from "@outrig/core";
import { BaseBinding, type StopFunction } from "@outrig/core/kit";
import { asBytes, Consumer } from "./consumer.ts";
import { type MqttBindingOptions, mqttBindingOptions } from "./options.ts";
import { Producer, retainOf } from "./producer.ts";

const COMPONENT = "bindings.mqtt3";

/**
 * `bindings.mqtt3`: input and output over MQTT 3.1.1, on the producer and consumer the pub/sub
 * uses. The output publishes `create` data to `topic`; each read subscribes to `topic` on its own
 * connection (client ID `consumerID`, then `consumerID-2`, ... for further reads of one
 * instance). The input acknowledges a QoS 1/2 message only after the handler succeeded; a handler
 * that keeps failing (after `backOffMaxRetries` in-process retries) gets the message published
 * again to its topic before the failed copy is acknowledged, so it is delivered again and never
 * dropped.
 */
export class MqttBinding extends BaseBinding {
  readonly componentType = COMPONENT;
  readonly opts: MqttBindingOptions;
  readonly #logger: Logger;
  readonly #consumerID: string;
  readonly #producer: Producer;
  #reads = 0;

  constructor(opts: MqttBindingOptions, consumerID: string, logger: Logger = silentLogger) {
    super();
    this.opts = opts;
    this.#consumerID = consumerID;
    this.#logger = logger;
    this.#producer = new Producer(
      opts,
      `${consumerID}-producer-${randomUUID().slice(0, 8)}`,
      COMPONENT,
      logger,
    );
  }

  operations(): readonly string[] {
    return ["create"];
  }

  protected override async onPing(): Promise<void> {
    await this.#producer.ping();
  }

  /** `create`, the only operation, publishes. */
  protected async invokeOperation(
    _operation: string,
    request: InvokeRequest,
  ): Promise<InvokeResponse> {
    await this.#producer.publish(
      getMetadata(request.metadata, "topic") || this.opts.topic,
      Buffer.from(request.data ?? new Uint8Array()),
      retainOf(request.metadata, this.opts.retain),
    );
    return {};
  }

  protected async startReading(handler: BindingHandler): Promise<StopFunction> {
    this.#reads++;
    const reader = new Consumer({
      component: COMPONENT,
      clientId: this.#reads === 1 ? this.#consumerID : `${this.#consumerID}-${this.#reads}`,
      filter: this.opts.topic,
      opts: this.opts,
      logger: this.#logger,
      deliver: async (topic, payload, packet) => {
        const metadata: Metadata = { topic, ...(packet.retain ? { retained: "true" } : {}) };
        await handler({ data: asBytes(payload), metadata });
      },
      // The copy keeps the original's retain flag, so a retained message stays retained.
      republish: (topic, payload, packet) => this.#producer.publish(topic, payload, packet.retain),
    });
    try {
      await reader.start();
    } catch (error) {
      await reader.stop();
      throw error;
    }
    return () => reader.stop();
  }

  protected override async onClose(): Promise<void> {
    await this.#producer.close();
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
