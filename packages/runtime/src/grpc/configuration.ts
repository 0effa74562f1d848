import type * as grpc from "@grpc/grpc-js";
import type { ConfigurationUpdate } from "@outrig/core";
import {
  CONFIGURATION_DELIVERY_TIMEOUT_MS,
  getConfiguration,
  subscribeConfiguration,
  unsubscribeConfiguration,
} from "../api/configuration.ts";
import type { ApiContext } from "../api/context.ts";
import { apiError, isApiError } from "../api/errors.ts";
import { toServiceError } from "./errors.ts";
import type { GetConfigurationRequest__Output } from "./generated/dapr/proto/runtime/v1/GetConfigurationRequest.ts";
import type { GetConfigurationResponse } from "./generated/dapr/proto/runtime/v1/GetConfigurationResponse.ts";
import type { SubscribeConfigurationRequest__Output } from "./generated/dapr/proto/runtime/v1/SubscribeConfigurationRequest.ts";
import type { SubscribeConfigurationResponse } from "./generated/dapr/proto/runtime/v1/SubscribeConfigurationResponse.ts";
import type { UnsubscribeConfigurationRequest__Output } from "./generated/dapr/proto/runtime/v1/UnsubscribeConfigurationRequest.ts";
import type { UnsubscribeConfigurationResponse } from "./generated/dapr/proto/runtime/v1/UnsubscribeConfigurationResponse.ts";

// Decoding and encoding only: the configuration rules live in ../api/configuration.ts.

export async function getConfigurationMethod(
  ctx: ApiContext,
  r: GetConfigurationRequest__Output,
): Promise<GetConfigurationResponse> {
  const items = await getConfiguration(ctx, {
    store: r.storeName,
    keys: r.keys,
    metadata: r.metadata ?? {},
  });
  return { items };
}

/** As daprd: an id that is not live answers `ok: false` with the reason, not an error status. */
export async function unsubscribeConfigurationMethod(
  ctx: ApiContext,
  r: UnsubscribeConfigurationRequest__Output,
): Promise<UnsubscribeConfigurationResponse> {
  try {
    await unsubscribeConfiguration(ctx, { store: r.storeName, id: r.id });
    return { ok: true, message: "" };
  } catch (error) {
    if (isApiError(error) && error.kind === "CONFIGURATION_UNSUBSCRIBE") {
      return { ok: false, message: error.message };
    }
    throw error;
  }
}

/** Writes one message, waiting (within the delivery timeout) while the stream's buffer is full. */
function writeMessage(
  call: grpc.ServerWritableStream<unknown, SubscribeConfigurationResponse>,
  message: SubscribeConfigurationResponse,
): Promise<void> {
  if (call.write(message)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      call.off("drain", onDrain);
      reject(new Error(`the subscriber read nothing for ${CONFIGURATION_DELIVERY_TIMEOUT_MS}ms`));
    }, CONFIGURATION_DELIVERY_TIMEOUT_MS);
    const onDrain = (): void => {
      clearTimeout(timer);
      resolve();
    };
    call.once("drain", onDrain);
  });
}

/**
 * SubscribeConfiguration(+Alpha1): the first message carries the subscription id and no items;
 * each change follows as its own message. The subscription ends with the stream.
 */
export function subscribeConfigurationStream(
  ctx: ApiContext,
  call: grpc.ServerWritableStream<
    SubscribeConfigurationRequest__Output,
    SubscribeConfigurationResponse
  >,
): void {
  const r = call.request;
  const gone = new AbortController();
  const finish = (): void => gone.abort();
  call.once("cancelled", finish);
  call.once("close", finish);
  const fail = (error: unknown): void => {
    if (!gone.signal.aborted) call.emit("error", toServiceError(error));
    gone.abort();
  };
  let ready = false;
  const held: ConfigurationUpdate[] = [];
  const deliver = async (update: ConfigurationUpdate): Promise<void> => {
    if (!ready) {
      held.push(update);
      return;
    }
    await writeMessage(call, { id: update.id, items: update.items }).catch((error: unknown) => {
      fail(
        apiError("CONFIGURATION_SUBSCRIBE", {
          store: r.storeName,
          keys: r.keys.join(","),
          error: (error as Error).message,
        }),
      );
    });
  };
  subscribeConfiguration(ctx, {
    store: r.storeName,
    keys: r.keys,
    metadata: r.metadata ?? {},
    deliver,
    signal: gone.signal,
    onEnd: () => {
      if (!gone.signal.aborted) call.end();
    },
  }).then((id) => {
    if (gone.signal.aborted) return;
    call.write({ id, items: {} });
    // Changes that came while subscribing go right after the id, before any later one.
    for (const update of held.splice(0)) call.write({ id: update.id, items: update.items });
    ready = true;
  }, fail);
}
