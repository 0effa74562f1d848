import { type AppCallbacks, decorateCallbacks, type Outcome } from "../app/callbacks.ts";
import type { EventSink } from "../messaging/subscriptions.ts";
import { endSpan, type SidecarTracing, type Span, SpanKind } from "./sidecar-tracing.ts";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

/**
 * daprd's span of one delivered message (`StartInternalCallbackSpan`, kind CLIENT, with
 * `ConstructSubscriptionSpanAttributes`): `pubsub/<topic>`, a child of the CloudEvent's
 * `traceparent` (or `traceid`) and `tracestate`.
 */
function messageSpan(tracing: SidecarTracing, topic: string, event: Record<string, unknown>): Span {
  return tracing.start(
    `pubsub/${topic}`,
    SpanKind.CLIENT,
    {
      traceparent: text(event.traceparent) ?? text(event.traceid),
      tracestate: text(event.tracestate),
    },
    {
      "messaging.system": "pubsub",
      "messaging.destination.name": topic,
      "messaging.destination_kind": "topic",
    },
  );
}

/**
 * A streaming subscription's sink (SubscribeTopicEventsAlpha1) with a `pubsub/<topic>` span per
 * message, as daprd's streamer makes one; it ends when the client acknowledges the message (an
 * outcome other than SUCCESS, or the stream ending first, marks it failed).
 */
export function tracedSink(sink: EventSink, topic: string, tracing: SidecarTracing): EventSink {
  return async (event, message) => {
    const span = messageSpan(tracing, topic, event);
    try {
      const outcome = await sink(event, message);
      endSpan(span, outcome !== "SUCCESS", outcome);
      return outcome;
    } catch (error) {
      endSpan(span, true, (error as Error).message);
      throw error;
    }
  };
}

/**
 * The app callbacks with daprd's delivery spans (`StartInternalCallbackSpan`, kind CLIENT): a
 * `pubsub/<topic>` span per message, a child of the CloudEvent's `traceparent` (or `traceid`),
 * and a `bindings/<name>` span per input binding event, a child of the event's `traceparent`
 * metadata. The app gets the span's context as its trace headers; the CloudEvent body stays as
 * the publisher's sidecar wrote it, as from daprd. A bulk delivery is one call to the app with a
 * `pubsub/<topic>` span per entry, each ended with that entry's outcome; as daprd, the call itself
 * carries none of their contexts.
 */
export function tracedCallbacks(callbacks: AppCallbacks, tracing: SidecarTracing): AppCallbacks {
  return decorateCallbacks(callbacks, {
    async topicEvent(delivery, signal) {
      const span = messageSpan(tracing, delivery.topic, delivery.event);
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
    async bulkTopicEvent(delivery, signal) {
      const spans = delivery.entries.map((e) => ({
        entryId: e.entryId,
        span: messageSpan(tracing, delivery.topic, e.event),
      }));
      const end = (outcomeOf: (entryId: string) => Outcome | undefined, message?: string) => {
        for (const { entryId, span } of spans) {
          const outcome = outcomeOf(entryId);
          endSpan(span, outcome !== "SUCCESS", message ?? outcome ?? "no status for the entry");
        }
      };
      try {
        const result = await callbacks.bulkTopicEvent(delivery, signal);
        end((id) => result.all ?? result.statuses.get(id));
        return result;
      } catch (error) {
        end(() => undefined, (error as Error).message);
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
