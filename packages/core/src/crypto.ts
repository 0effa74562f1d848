import type { Component } from "./component.ts";

/**
 * The key-wrapping algorithms of Dapr's `dapr.io/enc/v1` scheme, by the names its API takes
 * (`dapr-key-wrap-algorithm`), with their manifest ids. `AES` and `RSA` are Dapr's aliases.
 */
export const KEY_WRAP_ALGORITHMS = {
  A256KW: 1,
  "A128CBC-NOPAD": 2,
  "A192CBC-NOPAD": 3,
  "A256CBC-NOPAD": 4,
  "RSA-OAEP-256": 5,
} as const;

export type KeyWrapAlgorithm = keyof typeof KEY_WRAP_ALGORITHMS;

export const KEY_WRAP_ALIASES: Readonly<Record<string, KeyWrapAlgorithm>> = {
  AES: "A256KW",
  RSA: "RSA-OAEP-256",
};

export interface WrapKeyRequest {
  /** The key to wrap, as raw bytes (the envelope's 256-bit file key). */
  key: Uint8Array;
  algorithm: KeyWrapAlgorithm;
  /** Name (or `name/version`) of the wrapping key held by the component. */
  keyName: string;
}

export interface UnwrapKeyRequest {
  wrappedKey: Uint8Array;
  algorithm: KeyWrapAlgorithm;
  keyName: string;
}

/** A public key as a JSON Web Key (RFC 7517); never holds private or symmetric material. */
export type PublicJwk = Readonly<Record<string, unknown>> & { kty: string };

/**
 * A cryptography component (Dapr's `SubtleCrypto` subset the envelope scheme uses): it wraps and
 * unwraps keys with keys it holds, by name, so key material never leaves it. Failures are
 * `ComponentError`: `ERR_NOT_FOUND` for an unknown key, `ERR_INVALID_REQUEST` for a key that
 * cannot do the operation or algorithm, `ERR_INTERNAL` for a wrapped key that does not unwrap.
 */
export interface CryptoProvider extends Component {
  wrapKey(request: WrapKeyRequest): Promise<Uint8Array>;
  unwrapKey(request: UnwrapKeyRequest): Promise<Uint8Array>;
  /** The public part of an asymmetric key; `ERR_NOT_FOUND` for a symmetric or unknown key. */
  getKey(keyName: string): Promise<PublicJwk>;
}
