import { type AppCallbacks, decorateCallbacks } from "../app/callbacks.ts";
import { endSpan, type SidecarTracing, SpanKind } from "./sidecar-tracing.ts";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

/**
 * The app callbacks with daprd's delivery spans (`StartInternalCallbackSpan`, kind CLIENT): a
 * `pubsub/<topic>` span per message, a child of the CloudEvent's `traceparent` (or `traceid`),
 * and a `bindings/<name>` span per input binding event, a child of the event's `traceparent`
 * metadata. The app gets the span's context as its trace headers; the CloudEvent body stays as
 * the publisher's sidecar wrote it, as from daprd.
 */
export function tracedCallbacks(callbacks: AppCallbacks, tracing: SidecarTracing): AppCallbacks {
  return decorateCallbacks(callbacks, {
    async topicEvent(delivery, signal) {
      const event = delivery.event;
      const span = tracing.start(
        `pubsub/${delivery.topic}`,
        SpanKind.CLIENT,
        {
          traceparent: text(event.traceparent) ?? text(event.traceid),
          tracestate: text(event.tracestate),
        },
        {
          "messaging.system": "pubsub",
          "messaging.destination.name": delivery.topic,
          "messaging.destination_kind": "topic",
        },
      );
      try {
        const result = await callbacks.topicEvent(
          { ...delivery, trace: tracing.headers(span) },
          signal,
        );
        endSpan(span, result.outcome !== "SUCCESS", result.detail);
        return result;
      } catch (error) {
        endSpan(span, true, (error as Error).message);
        throw error;
      }
    },
    async bindingEvent(delivery, signal) {
      const span = tracing.start(
        `bindings/${delivery.name}`,
        SpanKind.CLIENT,
        { traceparent: delivery.metadata.traceparent, tracestate: delivery.metadata.tracestate },
        {
          "db.name": delivery.name,
          "rpc.service": "Dapr",
          "db.system": "bindings",
          "db.connection_string": `POST ${delivery.route}`,
        },
      );
      const headers = tracing.headers(span);
      const metadata: Record<string, string> = { ...delivery.metadata, ...headers };
      if (!headers.tracestate) delete metadata.tracestate;
      try {
        const reply = await callbacks.bindingEvent({ ...delivery, metadata }, signal);
        endSpan(span, false);
        return reply;
      } catch (error) {
        endSpan(span, true, (error as Error).message);
        throw error;
      }
    },
  });
}
