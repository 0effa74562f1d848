import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import {
  ComponentError,
  type CryptoProvider,
  type PublicJwk,
  type UnwrapKeyRequest,
  type WrapKeyRequest,
} from "@outrig/core";

/** Deliberate bugs the crypto suite must catch. */
export interface ReferenceFlaws {
  /** Wrapping returns the key itself. */
  identityWrap?: boolean;
  /** Unwrapping ignores the key name and tries every key. */
  anyKeyUnwraps?: boolean;
  /** getKey returns the private JWK. */
  leaksPrivate?: boolean;
  /** getKey returns a symmetric key as an `oct` JWK. */
  leaksSymmetric?: boolean;
  /** An unknown key is ERR_INTERNAL. */
  unknownIsInternal?: boolean;
  /** A256KW with an RSA key wraps with RSA anyway. */
  ignoresAlgorithm?: boolean;
}

type Key = { type: "oct"; bytes: Buffer } | { type: "rsa"; key: KeyObject; private: boolean };

const IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");

/** A correct in-memory provider (and its broken variants), to prove the suite tells them apart. */
export class ReferenceCrypto implements CryptoProvider {
  readonly #keys = new Map<string, Key>();
  readonly #flaws: ReferenceFlaws;

  constructor(flaws: ReferenceFlaws = {}) {
    this.#flaws = flaws;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.#keys.set("sym", { type: "oct", bytes: randomBytes(32) });
    this.#keys.set("sym2", { type: "oct", bytes: randomBytes(32) });
    this.#keys.set("rsa", { type: "rsa", key: rsa.privateKey, private: true });
    this.#keys.set("rsa2", { type: "rsa", key: other.privateKey, private: true });
    this.#keys.set("rsa-pub", { type: "rsa", key: rsa.publicKey, private: false });
  }

  static readonly KEYS = {
    symmetric: "sym",
    otherSymmetric: "sym2",
    rsa: "rsa",
    otherRsa: "rsa2",
    rsaPublic: "rsa-pub",
  };

  #get(name: string): Key {
    const key = this.#keys.get(name);
    if (!key) {
      throw new ComponentError(
        this.#flaws.unknownIsInternal ? "ERR_INTERNAL" : "ERR_NOT_FOUND",
        `no key ${name}`,
      );
    }
    return key;
  }

  #wrap(key: Key, algorithm: string, plain: Uint8Array): Buffer {
    if (this.#flaws.identityWrap) return Buffer.from(plain);
    if (key.type === "oct" && algorithm === "A256KW") {
      const c = createCipheriv("id-aes256-wrap", key.bytes, IV);
      return Buffer.concat([c.update(plain), c.final()]);
    }
    if (key.type === "rsa" && (algorithm === "RSA-OAEP-256" || this.#flaws.ignoresAlgorithm)) {
      return publicEncrypt(
        { key: key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        plain,
      );
    }
    throw new ComponentError("ERR_INVALID_REQUEST", `key cannot be used with ${algorithm}`);
  }

  #unwrap(key: Key, algorithm: string, wrapped: Uint8Array): Buffer {
    if (this.#flaws.identityWrap) return Buffer.from(wrapped);
    if (key.type === "oct" && algorithm === "A256KW") {
      const d = createDecipheriv("id-aes256-wrap", key.bytes, IV);
      return Buffer.concat([d.update(wrapped), d.final()]);
    }
    if (key.type === "rsa" && algorithm === "RSA-OAEP-256") {
      if (!key.private)
        throw new ComponentError("ERR_INVALID_REQUEST", "a public key cannot unwrap");
      return privateDecrypt(
        { key: key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        wrapped,
      );
    }
    throw new ComponentError("ERR_INVALID_REQUEST", `key cannot be used with ${algorithm}`);
  }

  async wrapKey(r: WrapKeyRequest): Promise<Uint8Array> {
    return this.#wrap(this.#get(r.keyName), r.algorithm, r.key);
  }

  async unwrapKey(r: UnwrapKeyRequest): Promise<Uint8Array> {
    const named = this.#get(r.keyName);
    if (!this.#flaws.anyKeyUnwraps) return this.#unwrap(named, r.algorithm, r.wrappedKey);
    for (const key of this.#keys.values()) {
      try {
        return this.#unwrap(key, r.algorithm, r.wrappedKey);
      } catch {
        // try the next one
      }
    }
    throw new ComponentError("ERR_INTERNAL", "no key unwraps it");
  }

  async getKey(name: string): Promise<PublicJwk> {
    const key = this.#get(name);
    if (key.type === "oct") {
      if (this.#flaws.leaksSymmetric) return { kty: "oct", k: key.bytes.toString("base64url") };
      throw new ComponentError("ERR_NOT_FOUND", `key ${name} not found`);
    }
    if (this.#flaws.leaksPrivate && key.private)
      return key.key.export({ format: "jwk" }) as PublicJwk;
    return createPublicKey(key.key).export({ format: "jwk" }) as PublicJwk;
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}
