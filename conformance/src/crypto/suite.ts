import { randomBytes } from "node:crypto";
import {
  ComponentError,
  type CryptoProvider,
  EnvelopeError,
  type KeyWrapAlgorithm,
  openEnvelope,
  SEGMENT_SIZE,
  sealEnvelope,
} from "@outrig/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The keys the provider under test holds, by the names its requests use. */
export interface CryptoConformanceKeys {
  /** A 256-bit symmetric key (A256KW). */
  symmetric?: string;
  /** Another 256-bit symmetric key, for the wrong-key cases. */
  otherSymmetric?: string;
  /** An RSA private key (RSA-OAEP-256). */
  rsa?: string;
  /** Another RSA private key. */
  otherRsa?: string;
  /** The public half of `rsa` alone, when the provider can hold public-only keys. */
  rsaPublic?: string;
}

export interface CryptoConformanceConfig {
  name: string;
  create(): Promise<CryptoProvider>;
  keys: CryptoConformanceKeys;
}

export type CryptoCase = (provider: CryptoProvider, keys: CryptoConformanceKeys) => Promise<void>;

interface KeyPair {
  algorithm: KeyWrapAlgorithm;
  key: string;
  other: string | undefined;
}

function pairs(keys: CryptoConformanceKeys): KeyPair[] {
  const out: KeyPair[] = [];
  if (keys.symmetric)
    out.push({ algorithm: "A256KW", key: keys.symmetric, other: keys.otherSymmetric });
  if (keys.rsa) out.push({ algorithm: "RSA-OAEP-256", key: keys.rsa, other: keys.otherRsa });
  return out;
}

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    expect(error, "a provider failure is a ComponentError").toBeInstanceOf(ComponentError);
    return (error as ComponentError).code;
  }
}

function seal(provider: CryptoProvider, data: Uint8Array, p: KeyPair, cipher: string) {
  return sealEnvelope(chunks(data, 10_000), {
    keyName: p.key,
    algorithm: p.algorithm,
    cipher,
    wrapKey: (key, algorithm, keyName) => provider.wrapKey({ key, algorithm, keyName }),
  });
}

function open(provider: CryptoProvider, sealed: Uint8Array, keyName?: string) {
  return openEnvelope(chunks(sealed, 8_192), {
    keyName,
    unwrapKey: (wrappedKey, algorithm, name) =>
      provider.unwrapKey({ wrappedKey, algorithm, keyName: name }),
  });
}

/** The cases, each runnable on its own (the mutation self-test runs them against broken providers). */
export const CRYPTO_CASES = {
  /** Wrap then unwrap gives the key back, and the wrapped form is not the key. */
  wrapRoundTrip: (async (provider, keys) => {
    const list = pairs(keys);
    expect(list.length, "the config names at least one key").toBeGreaterThan(0);
    for (const p of list) {
      const key = randomBytes(32);
      const wrapped = await provider.wrapKey({ key, algorithm: p.algorithm, keyName: p.key });
      expect(Buffer.from(wrapped).equals(key), `${p.algorithm}: wrapped differs from the key`).toBe(
        false,
      );
      const back = await provider.unwrapKey({
        wrappedKey: wrapped,
        algorithm: p.algorithm,
        keyName: p.key,
      });
      expect(Buffer.from(back).equals(key), `${p.algorithm}: unwrapped is the key`).toBe(true);
    }
  }) as CryptoCase,

  /** Dapr's envelope sealed and opened through the provider, per algorithm and cipher. */
  envelopeRoundTrip: (async (provider, keys) => {
    const data = randomBytes(SEGMENT_SIZE * 2 + 99);
    for (const p of pairs(keys)) {
      for (const cipher of ["aes-gcm", "chacha20-poly1305"]) {
        const sealed = await collect(await seal(provider, data, p, cipher));
        const opened = await collect(await open(provider, sealed));
        expect(opened.equals(data), `${p.algorithm} ${cipher}`).toBe(true);
      }
    }
  }) as CryptoCase,

  /** Another key of the same kind does not unwrap, directly or through the envelope. */
  wrongKey: (async (provider, keys) => {
    const list = pairs(keys).filter((p) => p.other);
    expect(list.length, "the config names a second key").toBeGreaterThan(0);
    for (const p of list) {
      const key = randomBytes(32);
      const wrapped = await provider.wrapKey({ key, algorithm: p.algorithm, keyName: p.key });
      const unwrapped = await provider
        .unwrapKey({ wrappedKey: wrapped, algorithm: p.algorithm, keyName: p.other as string })
        .then(
          (k) => Buffer.from(k),
          () => undefined,
        );
      expect(unwrapped?.equals(key) ?? false, `${p.algorithm}: the other key does not unwrap`).toBe(
        false,
      );
      const sealed = await collect(await seal(provider, Buffer.from("secret"), p, "aes-gcm"));
      await expect(open(provider, sealed, p.other)).rejects.toBeInstanceOf(EnvelopeError);
    }
  }) as CryptoCase,

  /** An altered wrapped key does not unwrap to the key; an altered document does not open. */
  tamper: (async (provider, keys) => {
    for (const p of pairs(keys)) {
      const key = randomBytes(32);
      const wrapped = Buffer.from(
        await provider.wrapKey({ key, algorithm: p.algorithm, keyName: p.key }),
      );
      wrapped[5] = (wrapped[5] as number) ^ 0x40;
      const back = await provider
        .unwrapKey({ wrappedKey: wrapped, algorithm: p.algorithm, keyName: p.key })
        .then(
          (k) => Buffer.from(k),
          () => undefined,
        );
      expect(back?.equals(key) ?? false, `${p.algorithm}: altered wrapped key`).toBe(false);
      const sealed = Buffer.from(
        await collect(await seal(provider, randomBytes(1000), p, "aes-gcm")),
      );
      sealed[sealed.length - 20] = (sealed[sealed.length - 20] as number) ^ 1;
      const opened = await open(provider, sealed);
      await expect(collect(opened)).rejects.toMatchObject({ failure: "segment" });
    }
  }) as CryptoCase,

  /** An unknown key name is ERR_NOT_FOUND for every operation. */
  unknownKey: (async (provider, keys) => {
    const name = "outrig-conformance-no-such-key";
    const algorithm = pairs(keys)[0]?.algorithm ?? "A256KW";
    expect(await codeOf(provider.wrapKey({ key: randomBytes(32), algorithm, keyName: name }))).toBe(
      "ERR_NOT_FOUND",
    );
    expect(
      await codeOf(provider.unwrapKey({ wrappedKey: randomBytes(40), algorithm, keyName: name })),
    ).toBe("ERR_NOT_FOUND");
    expect(await codeOf(provider.getKey(name))).toBe("ERR_NOT_FOUND");
  }) as CryptoCase,

  /** A key used with an algorithm of the other kind is refused as a bad request. */
  algorithmMismatch: (async (provider, keys) => {
    if (keys.symmetric) {
      expect(
        await codeOf(
          provider.wrapKey({
            key: randomBytes(32),
            algorithm: "RSA-OAEP-256",
            keyName: keys.symmetric,
          }),
        ),
      ).toBe("ERR_INVALID_REQUEST");
    }
    if (keys.rsa) {
      expect(
        await codeOf(
          provider.wrapKey({ key: randomBytes(32), algorithm: "A256KW", keyName: keys.rsa }),
        ),
      ).toBe("ERR_INVALID_REQUEST");
    }
  }) as CryptoCase,

  /** getKey gives only public material: an RSA key's public JWK, a symmetric key not at all. */
  publicKeysOnly: (async (provider, keys) => {
    if (keys.rsa) {
      const jwk = await provider.getKey(keys.rsa);
      expect(jwk.kty).toBe("RSA");
      expect(typeof jwk.n).toBe("string");
      for (const secret of ["d", "p", "q", "dp", "dq", "qi", "k"])
        expect(jwk).not.toHaveProperty(secret);
    }
    if (keys.symmetric) expect(await codeOf(provider.getKey(keys.symmetric))).toBe("ERR_NOT_FOUND");
  }) as CryptoCase,

  /** A public-only key wraps (for someone holding the private key) and refuses to unwrap. */
  publicOnlyKey: (async (provider, keys) => {
    if (!keys.rsaPublic || !keys.rsa) return;
    const key = randomBytes(32);
    const wrapped = await provider.wrapKey({
      key,
      algorithm: "RSA-OAEP-256",
      keyName: keys.rsaPublic,
    });
    expect(
      await codeOf(
        provider.unwrapKey({
          wrappedKey: wrapped,
          algorithm: "RSA-OAEP-256",
          keyName: keys.rsaPublic,
        }),
      ),
    ).toBe("ERR_INVALID_REQUEST");
    const back = await provider.unwrapKey({
      wrappedKey: wrapped,
      algorithm: "RSA-OAEP-256",
      keyName: keys.rsa,
    });
    expect(Buffer.from(back).equals(key)).toBe(true);
  }) as CryptoCase,
} as const;

export type CryptoCaseId = keyof typeof CRYPTO_CASES;

/** The crypto provider suite: one `it` per case of {@link CRYPTO_CASES}. */
export function describeCryptoProviderConformance(config: CryptoConformanceConfig): void {
  describe(`crypto conformance: ${config.name}`, () => {
    let provider: CryptoProvider;
    beforeAll(async () => {
      provider = await config.create();
      await provider.ping();
    });
    afterAll(async () => {
      await provider?.close();
    });
    for (const [id, run] of Object.entries(CRYPTO_CASES)) {
      it(id, () => run(provider, config.keys));
    }
  });
}
