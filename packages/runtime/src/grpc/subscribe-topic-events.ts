import type * as grpc from "@grpc/grpc-js";
import type { ApiContext } from "../api/context.ts";
import { apiError } from "../api/errors.ts";
import type { StreamEvent, StreamSession } from "../api/subscribe-stream.ts";
import { toServiceError } from "./errors.ts";
import type { SubscribeTopicEventsRequestAlpha1__Output } from "./generated/dapr/proto/runtime/v1/SubscribeTopicEventsRequestAlpha1.ts";
import type { SubscribeTopicEventsResponseAlpha1 } from "./generated/dapr/proto/runtime/v1/SubscribeTopicEventsResponseAlpha1.ts";
import { toStruct } from "./struct.ts";

type Call = grpc.ServerDuplexStream<
  SubscribeTopicEventsRequestAlpha1__Output,
  SubscribeTopicEventsResponseAlpha1
>;

function eventMessage(e: StreamEvent): SubscribeTopicEventsResponseAlpha1 {
  return {
    eventMessage: {
      id: e.id,
      source: e.source,
      type: e.type,
      specVersion: e.specVersion,
      dataContentType: e.dataContentType,
      data: Buffer.from(e.data),
      topic: e.topic,
      pubsubName: e.pubsubName,
      path: e.path,
      extensions: toStruct(e.extensions),
    },
  };
}

/**
 * SubscribeTopicEventsAlpha1: decodes the stream's messages and calls the API core. The first
 * message opens the subscription, answered by an initial response; each later one acknowledges a
 * message by id. The client ending its side, cancelling, or the sidecar stopping closes it.
 */
export function subscribeTopicEvents(ctx: ApiContext, call: Call): void {
  let session: StreamSession | undefined;
  let opening = false;
  let ended = false;
  const finish = (error?: unknown): void => {
    if (ended) return;
    ended = true;
    session?.close();
    if (error === undefined) call.end();
    else call.emit("error", toServiceError(error));
  };
  call.on("data", (request: SubscribeTopicEventsRequestAlpha1__Output) => {
    if (ended) return;
    if (!opening) {
      opening = true;
      const streams = ctx.streams;
      if (!streams) {
        finish(apiError("API_UNIMPLEMENTED", { api: "streaming subscriptions" }));
        return;
      }
      const initial = request.initialRequest;
      streams
        .open(
          ctx,
          request.subscribeTopicEventsRequestType === "initialRequest" && initial
            ? {
                pubsubName: initial.pubsubName,
                topic: initial.topic,
                metadata: initial.metadata,
                deadLetterTopic: initial.deadLetterTopic,
              }
            : undefined,
          // Bounded: a stream holds at most its limit of unacknowledged messages.
          (event) => call.write(eventMessage(event)),
        )
        .then(
          (opened) => {
            session = opened;
            if (ended) {
              opened.close();
              return;
            }
            opened.signal.addEventListener("abort", () => finish());
            call.write({ initialResponse: {} });
            opened.start();
          },
          (error: unknown) => finish(error),
        );
      return;
    }
    if (request.subscribeTopicEventsRequestType !== "eventProcessed" || !request.eventProcessed) {
      finish(apiError("STREAM_DUPLICATE_INITIAL"));
      return;
    }
    // Acknowledgements arrive only for messages sent, hence after the session opened.
    try {
      const processed = request.eventProcessed;
      if (!session?.processed(processed.id, processed.status?.status))
        ctx.logger.debug("acknowledgement for no message awaiting one", { id: processed.id });
    } catch (error) {
      finish(error);
    }
  });
  call.on("end", () => finish());
  call.on("cancelled", () => finish());
  call.on("error", () => finish());
}
