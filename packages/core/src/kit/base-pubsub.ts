import type {
  BulkMessageHandler,
  BulkPublishRequest,
  BulkPublishResponse,
  BulkSubscribeRequest,
  MessageHandler,
  PublishRequest,
  PubSub,
  PubSubCapability,
  SubscribeRequest,
} from "../pubsub.ts";
import { BaseComponent } from "./base-component.ts";
import type { StopFunction } from "./subscriptions.ts";

/**
 * A base for pub/sub components. The public operations are template methods: each checks the
 * component is open, the capability (BULK_PUBSUB, BULK_SUBSCRIBE) is declared, the topic is
 * non-empty and the handler is a function, then calls the protected method a component
 * implements. A subscription whose signal is already aborted is not started. A started one
 * returns its stop function, which the base calls when the signal aborts or the component
 * closes, whichever comes first (at once when that already happened during the start).
 */
export abstract class BasePubSub extends BaseComponent implements PubSub {
  abstract readonly capabilities: ReadonlySet<PubSubCapability>;
  protected override readonly closedMessage: string = "the pub/sub is closed";

  protected abstract publishMessage(request: PublishRequest): Promise<void>;
  protected abstract startSubscription(
    request: SubscribeRequest,
    handler: MessageHandler,
  ): Promise<StopFunction>;

  /** BULK_PUBSUB. */
  protected async publishBulk(_request: BulkPublishRequest): Promise<BulkPublishResponse> {
    throw this.errors.notSupported("bulkPublish");
  }

  /** BULK_SUBSCRIBE. */
  protected async startBulkSubscription(
    _request: BulkSubscribeRequest,
    _handler: BulkMessageHandler,
  ): Promise<StopFunction> {
    throw this.errors.notSupported("bulkSubscribe");
  }

  async publish(request: PublishRequest): Promise<void> {
    this.checkOpen("publish");
    this.checkTopic(request.topic);
    return this.publishMessage(request);
  }

  async bulkPublish(request: BulkPublishRequest): Promise<BulkPublishResponse> {
    this.#require("BULK_PUBSUB", "bulkPublish");
    this.checkOpen("bulkPublish");
    this.checkTopic(request.topic);
    return this.publishBulk(request);
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<void> {
    this.checkOpen("subscribe");
    this.#checkSubscription(request, handler, "subscribe");
    if (request.signal?.aborted) return;
    this.subscriptions.add(await this.startSubscription(request, handler), request.signal);
  }

  async bulkSubscribe(request: BulkSubscribeRequest, handler: BulkMessageHandler): Promise<void> {
    this.#require("BULK_SUBSCRIBE", "bulkSubscribe");
    this.checkOpen("bulkSubscribe");
    this.#checkSubscription(request, handler, "bulkSubscribe");
    if (request.signal?.aborted) return;
    this.subscriptions.add(await this.startBulkSubscription(request, handler), request.signal);
  }

  /** The topic rule of publishing and subscribing; components with topic syntax add to it. */
  protected checkTopic(topic: unknown): void {
    if (typeof topic !== "string" || topic === "") throw this.errors.invalid("a topic is required");
  }

  #checkSubscription(request: SubscribeRequest, handler: unknown, operation: string): void {
    this.checkTopic(request.topic);
    if (typeof handler !== "function") {
      throw this.errors.invalid(`${operation} needs a handler function`);
    }
  }

  #require(capability: PubSubCapability, operation: string): void {
    this.requireCapability(this.capabilities, capability, operation);
  }
}
