import { once } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import type { ApiContext } from "../api/context.ts";
import { cryptoError, decrypt, encrypt } from "../api/crypto.ts";
import { apiError, isApiError } from "../api/errors.ts";
import { toServiceError } from "./errors.ts";
import type { DecryptRequest__Output } from "./generated/dapr/proto/runtime/v1/DecryptRequest.ts";
import type { EncryptRequest__Output } from "./generated/dapr/proto/runtime/v1/EncryptRequest.ts";

// EncryptAlpha1 / DecryptAlpha1: bidirectional streams of StreamPayload {data, seq}. Decoding and
// encoding only (the first message carries the options, seq counts from 0 both ways); the
// cryptography rules live in ../api/crypto.ts.

/** As daprd: the first message (with the options) must come within 5 s. */
export const FIRST_MESSAGE_TIMEOUT_MS = 5_000;

type CryptoRequest = EncryptRequest__Output | DecryptRequest__Output;
export type CryptoStream = grpc.ServerDuplexStream<CryptoRequest, unknown>;

async function firstMessage(call: CryptoStream): Promise<{
  first: CryptoRequest;
  messages: AsyncIterator<CryptoRequest>;
}> {
  const messages = (call as AsyncIterable<CryptoRequest>)[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          apiError("BAD_REQUEST", {
            detail: `error waiting for first message: none within ${FIRST_MESSAGE_TIMEOUT_MS}ms`,
          }),
        ),
      FIRST_MESSAGE_TIMEOUT_MS,
    );
  });
  try {
    const next = await Promise.race([messages.next(), timeout]);
    if (next.done || !next.value.options) {
      throw apiError("BAD_REQUEST", {
        detail: "first message does not contain the required options",
      });
    }
    return { first: next.value, messages };
  } finally {
    clearTimeout(timer);
  }
}

/** The payload bytes of the stream, checking the sequence and that options come only first. */
async function* payloads(
  first: CryptoRequest,
  messages: AsyncIterator<CryptoRequest>,
): AsyncGenerator<Uint8Array> {
  let expect = 0;
  for (let message: CryptoRequest | undefined = first; message; ) {
    if (message !== first && message.options) {
      throw apiError("BAD_REQUEST", { detail: "options found in non-leading message" });
    }
    const payload = message.payload;
    if (payload) {
      const seq = Number(payload.seq);
      if (seq !== expect) {
        throw apiError("BAD_REQUEST", {
          detail: `invalid sequence number received: ${payload.seq} (expected: ${expect})`,
        });
      }
      expect++;
      if (payload.data.length > 0) yield payload.data;
    }
    const next = await messages.next();
    message = next.done ? undefined : next.value;
  }
}

async function send(call: CryptoStream, output: AsyncGenerator<Buffer>): Promise<void> {
  let seq = 0;
  for await (const data of output) {
    if (call.cancelled) {
      await output.return(undefined);
      return;
    }
    if (!call.write({ payload: { data, seq: String(seq++) } })) await once(call, "drain");
  }
  call.end();
}

function fail(call: CryptoStream, error: unknown): void {
  call.emit("error", toServiceError(isApiError(error) ? error : cryptoError(error)));
}

export async function encryptAlpha1(ctx: ApiContext, call: CryptoStream): Promise<void> {
  try {
    const { first, messages } = await firstMessage(call);
    const o = (first as EncryptRequest__Output).options;
    const output = await encrypt(
      ctx,
      {
        component: o?.componentName,
        keyName: o?.keyName,
        keyWrapAlgorithm: o?.keyWrapAlgorithm,
        dataEncryptionCipher: o?.dataEncryptionCipher,
        omitDecryptionKeyName: o?.omitDecryptionKeyName,
        decryptionKeyName: o?.decryptionKeyName,
      },
      payloads(first, messages),
      {
        keyName: "property 'keyName' in the options message",
        keyWrapAlgorithm: "property 'keyWrapAlgorithm' in the options message",
      },
    );
    await send(call, output);
  } catch (error) {
    fail(call, error);
  }
}

export async function decryptAlpha1(ctx: ApiContext, call: CryptoStream): Promise<void> {
  try {
    const { first, messages } = await firstMessage(call);
    const o = (first as DecryptRequest__Output).options;
    const output = await decrypt(
      ctx,
      { component: o?.componentName, keyName: o?.keyName },
      payloads(first, messages),
    );
    await send(call, output);
  } catch (error) {
    fail(call, error);
  }
}

/** The bidirectional-stream methods outrig serves. */
export const DAPR_STREAMS: Record<string, (ctx: ApiContext, call: CryptoStream) => Promise<void>> =
  {
    EncryptAlpha1: encryptAlpha1,
    DecryptAlpha1: decryptAlpha1,
  };
