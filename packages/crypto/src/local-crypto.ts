import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
} from "node:crypto";
import {
  ComponentError,
  type CryptoProvider,
  type KeyWrapAlgorithm,
  type PublicJwk,
  type UnwrapKeyRequest,
  type WrapKeyRequest,
} from "@outrig/core";
import { BaseComponent } from "@outrig/core/kit";
import type { LocalKey } from "./keys.ts";

/** RFC 3394's default initial value. */
const AES_KW_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");

/**
 * What Dapr's local crypto engine allows a key to do (components-contrib
 * `KeyCanPerformOperation` / `KeyCanPerformAlgorithm`): with `key_ops`, only the operations it
 * lists; with `use`, `enc` for wrapping; with `alg`, only that algorithm.
 */
function checkUsage(
  key: LocalKey,
  keyName: string,
  op: "wrapKey" | "unwrapKey",
  alg: string,
): void {
  const { keyOps, use, alg: keyAlg } = key.usage;
  if ((keyOps && keyOps.length > 0 && !keyOps.includes(op)) || (use && use !== "enc")) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `key ${keyName} cannot perform the '${op}' operation`,
    );
  }
  if (keyAlg && keyAlg !== alg) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `key ${keyName} cannot be used with algorithm '${alg}' (it is for ${keyAlg})`,
    );
  }
}

function refuseCbc(alg: KeyWrapAlgorithm): never {
  // dapr.io/enc/v1 passes no IV to the wrapping call and has no manifest field for one; daprd's
  // engine then fails with "invalid nonce", so no interoperable document can use these.
  throw new ComponentError(
    "ERR_NOT_SUPPORTED",
    `key wrap algorithm ${alg} needs an IV, which the dapr.io/enc/v1 scheme does not carry (daprd refuses it as well); use A256KW or RSA-OAEP-256`,
  );
}

function requireAes256(key: LocalKey, keyName: string, alg: string): Buffer {
  if (key.type !== "oct" || key.bytes.length !== 32) {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `key ${keyName} cannot be used with ${alg}: it needs a 256-bit symmetric key`,
    );
  }
  return key.bytes;
}

function requireRsa(
  key: LocalKey,
  keyName: string,
  alg: string,
): LocalKey & { type: "private" | "public" } {
  if (key.type === "oct" || key.key.asymmetricKeyType !== "rsa") {
    throw new ComponentError(
      "ERR_INVALID_REQUEST",
      `key ${keyName} cannot be used with ${alg}: it needs an RSA key`,
    );
  }
  return key;
}

/** Wraps `plaintext` with `key` by `alg`: AES key wrap (RFC 3394) or RSA-OAEP with SHA-256. */
export function wrapWith(
  key: LocalKey,
  keyName: string,
  alg: KeyWrapAlgorithm,
  plaintext: Uint8Array,
): Buffer {
  checkUsage(key, keyName, "wrapKey", alg);
  switch (alg) {
    case "A256KW": {
      const c = createCipheriv("id-aes256-wrap", requireAes256(key, keyName, alg), AES_KW_IV);
      return Buffer.concat([c.update(plaintext), c.final()]);
    }
    case "RSA-OAEP-256":
      return publicEncrypt(
        {
          key: requireRsa(key, keyName, alg).key,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: "sha256",
        },
        plaintext,
      );
    default:
      return refuseCbc(alg);
  }
}

/** Unwraps what {@link wrapWith} made; a key that does not match fails ERR_INTERNAL. */
export function unwrapWith(
  key: LocalKey,
  keyName: string,
  alg: KeyWrapAlgorithm,
  wrapped: Uint8Array,
): Buffer {
  checkUsage(key, keyName, "unwrapKey", alg);
  const failed = (cause: unknown) =>
    new ComponentError("ERR_INTERNAL", `failed to unwrap the key with key ${keyName} (${alg})`, {
      cause,
    });
  switch (alg) {
    case "A256KW": {
      const d = createDecipheriv("id-aes256-wrap", requireAes256(key, keyName, alg), AES_KW_IV);
      try {
        return Buffer.concat([d.update(wrapped), d.final()]);
      } catch (error) {
        throw failed(error);
      }
    }
    case "RSA-OAEP-256": {
      const rsa = requireRsa(key, keyName, alg);
      if (rsa.type !== "private") {
        throw new ComponentError(
          "ERR_INVALID_REQUEST",
          `key ${keyName} is a public key: unwrapping needs the private key`,
        );
      }
      try {
        return privateDecrypt(
          { key: rsa.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
          wrapped,
        );
      } catch (error) {
        throw failed(error);
      }
    }
    default:
      return refuseCbc(alg);
  }
}

/**
 * Dapr's local crypto engine (components-contrib `LocalCryptoBaseComponent`): keys are looked up
 * by name through `retrieveKey` and used inside the sidecar; only public keys ever come out.
 */
export abstract class LocalCryptoProvider extends BaseComponent implements CryptoProvider {
  /** Called only while the provider is open. */
  protected abstract retrieveKey(keyName: string): Promise<LocalKey>;
  readonly componentType: string;
  protected override readonly closedMessage = "the crypto provider is closed";

  constructor(componentType: string) {
    super();
    this.componentType = componentType;
  }

  async wrapKey(request: WrapKeyRequest): Promise<Uint8Array> {
    this.checkOpen();
    const key = await this.retrieveKey(request.keyName);
    return wrapWith(key, request.keyName, request.algorithm, request.key);
  }

  async unwrapKey(request: UnwrapKeyRequest): Promise<Uint8Array> {
    this.checkOpen();
    const key = await this.retrieveKey(request.keyName);
    return unwrapWith(key, request.keyName, request.algorithm, request.wrappedKey);
  }

  async getKey(keyName: string): Promise<PublicJwk> {
    this.checkOpen();
    const key = await this.retrieveKey(keyName);
    // As Dapr: a symmetric key has no public part, so it is reported as not found.
    if (key.type === "oct") {
      throw this.errors.error("ERR_NOT_FOUND", `key ${keyName} not found`);
    }
    const pub = key.type === "private" ? createPublicKey(key.key) : key.key;
    const { kid, alg, use } = key.usage;
    return {
      ...(pub.export({ format: "jwk" }) as PublicJwk),
      ...(kid ? { kid } : {}),
      ...(alg ? { alg } : {}),
      ...(use ? { use } : {}),
    };
  }
}
