import type { Metadata, SetRequest } from "@outrig/core";
import type { Subscription } from "../messaging/subscriptions.ts";

/**
 * What the sidecar asks of its app besides service invocation, whatever the app speaks: HTTP
 * (`AppChannel`) or gRPC (`GrpcAppChannel`, Dapr's AppCallback). The delivery semantics (merging
 * subscriptions, routing, dead letters, retries, legacy binding replies) live once, in
 * subscriptions.ts and input-bindings.ts; an implementation only encodes a call and decodes the
 * answer. Every call is bounded by a timeout and aborted with `signal` or when the channel closes.
 */
export interface AppCallbacks {
  readonly protocol: "http" | "grpc";
  /** Resolves once the app can be called: its port accepts (HTTP) or HealthCheck answers (gRPC). */
  ready(signal: AbortSignal): Promise<void>;
  /** The app's programmatic subscriptions (`GET /dapr/subscribe`, ListTopicSubscriptions). */
  subscriptions(signal: AbortSignal): Promise<Subscription[]>;
  /** Which of these input bindings the app listens to (an OPTIONS probe, ListInputBindings). */
  inputBindings(
    candidates: readonly InputBindingRoute[],
    signal: AbortSignal,
  ): Promise<Set<string>>;
  /** One message; a thrown error means the app could not be reached, which is retried. */
  topicEvent(delivery: TopicDelivery, signal: AbortSignal): Promise<DeliveryResult>;
  bulkTopicEvent(delivery: BulkDelivery, signal: AbortSignal): Promise<BulkResult>;
  /** One input binding event; throws when the app failed it (the binding retries). */
  bindingEvent(delivery: BindingDelivery, signal: AbortSignal): Promise<BindingReply>;
  close(): Promise<void>;
}

/** How the app answered a delivery, as daprd reads it. */
export type Outcome = "SUCCESS" | "RETRY" | "DROP";

export interface TopicDelivery {
  pubsubname: string;
  topic: string;
  /** The route the message matched (HTTP path; TopicEventRequest.path). */
  path: string;
  /** The CloudEvent delivered (a fresh envelope for raw payloads). */
  event: Record<string, unknown>;
  /** The broker message's metadata, passed on as headers / gRPC metadata. */
  metadata: Metadata;
  /**
   * The delivery span's trace context, sent to the app instead of the CloudEvent's own (absent
   * while tracing is off: the event's `traceparent`/`tracestate` are sent).
   */
  trace?: { traceparent?: string; tracestate?: string };
}

export interface DeliveryResult {
  outcome: Outcome;
  /** For logs: the status the app answered. */
  detail: string;
}

export interface BulkDelivery {
  id: string;
  pubsubname: string;
  topic: string;
  path: string;
  metadata: Metadata;
  /** Raw entries are their bytes; others are CloudEvents. */
  raw: boolean;
  entries: { entryId: string; event: Record<string, unknown>; metadata: Metadata }[];
}

export interface BulkResult {
  /** One outcome for every entry (the call failed as a whole), else per entry in `statuses`. */
  all?: Outcome;
  statuses: Map<string, Outcome>;
}

export interface InputBindingRoute {
  name: string;
  /** The HTTP route (`route` metadata or the name), with a leading slash. */
  route: string;
}

export interface BindingDelivery extends InputBindingRoute {
  data: Uint8Array;
  metadata: Record<string, string>;
}

/**
 * Dapr's legacy input-binding reply, decoded: state to save in `storeName`, and `data` to send
 * to the output bindings `to`. `response` is what the binding gets back.
 */
export interface BindingReply {
  storeName?: string;
  states: SetRequest[];
  to: string[];
  data: unknown;
  concurrency: "sequential" | "parallel";
  response: Uint8Array | undefined;
}

/** Calls to the app for deliveries and discovery get this long unless told otherwise. */
export const APP_CALL_TIMEOUT_MS = 60_000;

/** `signal`, the channel's own close signal and a timeout, as one signal for one call. */
export function callSignal(
  signal: AbortSignal,
  closed: AbortSignal,
  timeoutMs: number,
): AbortSignal {
  return AbortSignal.any([signal, closed, AbortSignal.timeout(timeoutMs)]);
}

/**
 * `callbacks` with the delivery calls replaced (metrics, resiliency, tracing); the rest, and bulk
 * deliveries unless given, pass through.
 */
export function decorateCallbacks(
  callbacks: AppCallbacks,
  deliveries: Pick<AppCallbacks, "topicEvent" | "bindingEvent"> &
    Partial<Pick<AppCallbacks, "bulkTopicEvent">>,
): AppCallbacks {
  return {
    protocol: callbacks.protocol,
    ready: (signal) => callbacks.ready(signal),
    subscriptions: (signal) => callbacks.subscriptions(signal),
    inputBindings: (candidates, signal) => callbacks.inputBindings(candidates, signal),
    bulkTopicEvent: (delivery, signal) => callbacks.bulkTopicEvent(delivery, signal),
    close: () => callbacks.close(),
    ...deliveries,
  };
}
