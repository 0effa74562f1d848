import {
  type CryptoProvider,
  EnvelopeError,
  isTruthy,
  openEnvelope,
  sealEnvelope,
} from "@outrig/core";
import type { ApiContext } from "./context.ts";
import { type ApiError, apiError, isApiError } from "./errors.ts";

/** Dapr's EncryptRequestOptions (gRPC) / `dapr-*` headers (HTTP), as the transports decode them. */
export interface EncryptOptionsInput {
  component: string | undefined;
  keyName: string | undefined;
  keyWrapAlgorithm: string | undefined;
  dataEncryptionCipher?: string | undefined;
  /** HTTP gives the header text (Dapr's truthy spellings), gRPC a boolean. */
  omitDecryptionKeyName?: string | boolean | undefined;
  decryptionKeyName?: string | undefined;
}

export interface DecryptOptionsInput {
  component: string | undefined;
  keyName?: string | undefined;
}

/** How a transport names a missing option: a header on HTTP, a message field on gRPC. */
export interface OptionNames {
  keyName: string;
  keyWrapAlgorithm: string;
}

function provider(ctx: ApiContext, name: string | undefined): CryptoProvider {
  if (ctx.runtime.names("crypto").length === 0) throw apiError("CRYPTO_PROVIDERS_NOT_CONFIGURED");
  if (!name) throw apiError("BAD_REQUEST", { detail: "missing component name" });
  if (!ctx.runtime.has("crypto", name)) throw apiError("CRYPTO_PROVIDER_NOT_FOUND", { name });
  return ctx.runtime.cryptoProvider(name);
}

/** Any failure of sealing or opening, as Dapr reports it: ERR_CRYPTO with the reason. */
export function cryptoError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return apiError("CRYPTO", { error: detail }, { cause: error });
}

/**
 * Encrypts `source` into Dapr's `dapr.io/enc/v1` envelope with the named component's key.
 * Resolves once the file key is wrapped (bad options, an unknown component or key, a key that
 * cannot wrap: rejected before any byte), to the sealed stream; its own failures are ERR_CRYPTO.
 */
export async function encrypt(
  ctx: ApiContext,
  options: EncryptOptionsInput,
  source: AsyncIterable<Uint8Array>,
  names: OptionNames,
): Promise<AsyncGenerator<Buffer>> {
  const crypto = provider(ctx, options.component);
  if (!options.keyName) throw apiError("BAD_REQUEST", { detail: `missing ${names.keyName}` });
  if (!options.keyWrapAlgorithm) {
    throw apiError("BAD_REQUEST", { detail: `missing ${names.keyWrapAlgorithm}` });
  }
  const omit =
    typeof options.omitDecryptionKeyName === "boolean"
      ? options.omitDecryptionKeyName
      : isTruthy(options.omitDecryptionKeyName);
  try {
    const sealed = await sealEnvelope(source, {
      keyName: options.keyName,
      algorithm: options.keyWrapAlgorithm,
      cipher: options.dataEncryptionCipher,
      decryptionKeyName: options.decryptionKeyName,
      omitKeyName: omit,
      wrapKey: (key, algorithm, keyName) => crypto.wrapKey({ key, algorithm, keyName }),
    });
    return rethrowAs(sealed);
  } catch (error) {
    throw cryptoError(
      error instanceof EnvelopeError
        ? error
        : new Error(`failed to wrap the file key: ${message(error)}`),
    );
  }
}

/**
 * Decrypts a `dapr.io/enc/v1` document from `source`. Resolves once the header is verified (a
 * wrong or unknown key, an altered header: rejected before any byte), to the plaintext stream,
 * which yields a segment only after its tag verified and ends with ERR_CRYPTO on the first bad one.
 */
export async function decrypt(
  ctx: ApiContext,
  options: DecryptOptionsInput,
  source: AsyncIterable<Uint8Array>,
): Promise<AsyncGenerator<Buffer>> {
  const crypto = provider(ctx, options.component);
  try {
    const opened = await openEnvelope(source, {
      keyName: options.keyName,
      unwrapKey: (wrappedKey, algorithm, keyName) =>
        crypto.unwrapKey({ wrappedKey, algorithm, keyName }),
    });
    return rethrowAs(opened);
  } catch (error) {
    throw cryptoError(error);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stream with its failures as ApiErrors (ERR_CRYPTO), so transports encode them as such. */
async function* rethrowAs(stream: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } catch (error) {
    throw cryptoError(error);
  }
}
