/**
 * Dapr's encryption scheme v1 (`dapr.io/enc/v1`, specified in dapr/kit `schemes/enc/v1`), as a
 * streaming codec on Node's crypto: data sealed here opens in daprd and the other way round.
 *
 *   header  = "dapr.io/enc/v1\n" manifest-json "\n" base64(HMAC-SHA-256(mac-key, the two lines)) "\n"
 *   payload = segment_0 || ... || segment_k   (64 KiB of plaintext each, the last one shorter)
 *
 * A random 256-bit file key is wrapped by the crypto component; the MAC key is
 * HKDF-SHA-256(file key, salt "", info "header"), the payload key HKDF-SHA-256(file key,
 * salt nonce-prefix, info "payload"); segment i is sealed with AES-256-GCM or
 * ChaCha20-Poly1305 under nonce = prefix(7) || uint32be(i) || last(1), its 16-byte tag appended.
 * Opening buffers one segment at a time and yields it only once its tag verified, so nothing
 * unauthenticated is ever emitted; the last-segment flag in the nonce makes a cut at a segment
 * boundary fail too.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { KEY_WRAP_ALGORITHMS, KEY_WRAP_ALIASES, type KeyWrapAlgorithm } from "./crypto.ts";
import { ComponentError } from "./errors.ts";

export const ENVELOPE_SCHEME = "dapr.io/enc/v1";
/** Plaintext bytes per segment. */
export const SEGMENT_SIZE = 64 * 1024;
/** The AEAD tag each segment carries. */
export const SEGMENT_OVERHEAD = 16;
/** The whole header (three lines) must fit in one segment, as Dapr reads it. */
export const MAX_HEADER_SIZE = SEGMENT_SIZE;
/** The segment counter is 32 bits: at most 2^32 segments (256 TiB). */
export const MAX_SEGMENTS = 2 ** 32;
const NONCE_PREFIX_LENGTH = 7;
const FILE_KEY_LENGTH = 32;

export const ENVELOPE_CIPHERS = { "AES-GCM": 1, "CHACHA20-POLY1305": 2 } as const;
export type EnvelopeCipher = keyof typeof ENVELOPE_CIPHERS;

export type EnvelopeFailure =
  | "options"
  | "header"
  | "manifest"
  | "key-name-missing"
  | "signature"
  | "segment"
  | "truncated"
  | "too-large";

/** A sealing or opening failure; `failure` says which step, the message says what is wrong. */
export class EnvelopeError extends ComponentError {
  readonly failure: EnvelopeFailure;

  constructor(failure: EnvelopeFailure, message: string, cause?: unknown) {
    super("ERR_INVALID_REQUEST", message, cause === undefined ? {} : { cause });
    this.name = "EnvelopeError";
    this.failure = failure;
  }
}

/** The algorithm a request names, as the scheme knows it (upper-cased, aliases resolved). */
export function keyWrapAlgorithm(name: string): KeyWrapAlgorithm {
  const upper = name.toUpperCase();
  const resolved = KEY_WRAP_ALIASES[upper] ?? upper;
  if (!Object.hasOwn(KEY_WRAP_ALGORITHMS, resolved)) {
    throw new EnvelopeError(
      "options",
      `key wrap algorithm ${name} is not supported; supported: ${[
        ...Object.keys(KEY_WRAP_ALGORITHMS),
        ...Object.keys(KEY_WRAP_ALIASES),
      ].join(", ")}`,
    );
  }
  return resolved as KeyWrapAlgorithm;
}

/** The data cipher a request names (case-insensitive); `undefined` or empty is AES-GCM. */
export function envelopeCipher(name: string | undefined): EnvelopeCipher {
  if (!name) return "AES-GCM";
  const upper = name.toUpperCase();
  if (!Object.hasOwn(ENVELOPE_CIPHERS, upper)) {
    throw new EnvelopeError(
      "options",
      `data encryption cipher ${name} is not supported; supported: aes-gcm, chacha20-poly1305`,
    );
  }
  return upper as EnvelopeCipher;
}

/** The manifest (second header line) as sent: numbers and base64 as Dapr's Go struct encodes. */
export interface EnvelopeManifest {
  /** Key to decrypt with; absent when sealed with `omitKeyName`. */
  keyName?: string;
  algorithm: KeyWrapAlgorithm;
  wrappedKey: Uint8Array;
  cipher: EnvelopeCipher;
  noncePrefix: Uint8Array;
}

export interface SealOptions {
  /** The component's key that wraps the file key. */
  keyName: string;
  /** Key wrap algorithm name as the API takes it (`A256KW`, `RSA-OAEP-256`, `AES`, `RSA`...). */
  algorithm: string;
  /** `aes-gcm` (default) or `chacha20-poly1305`, any case. */
  cipher?: string | undefined;
  /** Key name to record for decryption instead of `keyName`. */
  decryptionKeyName?: string | undefined;
  /** Record no key name: decrypting then has to name the key. */
  omitKeyName?: boolean | undefined;
  wrapKey(fileKey: Uint8Array, algorithm: KeyWrapAlgorithm, keyName: string): Promise<Uint8Array>;
}

export interface OpenOptions {
  /** Overrides the key name the manifest records (required when it records none). */
  keyName?: string | undefined;
  unwrapKey(
    wrappedKey: Uint8Array,
    algorithm: KeyWrapAlgorithm,
    keyName: string,
  ): Promise<Uint8Array>;
}

function deriveKeys(
  fileKey: Uint8Array,
  noncePrefix: Uint8Array,
): { mac: Buffer; payload: Buffer } {
  return {
    mac: Buffer.from(hkdfSync("sha256", fileKey, Buffer.alloc(0), "header", 32)),
    payload: Buffer.from(hkdfSync("sha256", fileKey, noncePrefix, "payload", 32)),
  };
}

function headerMac(macKey: Buffer, manifestLine: Buffer): Buffer {
  return createHmac("sha256", macKey)
    .update(`${ENVELOPE_SCHEME}\n`)
    .update(manifestLine)
    .update("\n")
    .digest();
}

function nonceFor(prefix: Uint8Array, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(index, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

function aead(cipher: EnvelopeCipher, key: Buffer, nonce: Buffer) {
  const options = { authTagLength: SEGMENT_OVERHEAD };
  return cipher === "AES-GCM"
    ? createCipheriv("aes-256-gcm", key, nonce, options)
    : createCipheriv("chacha20-poly1305", key, nonce, options);
}

function sealSegment(
  cipher: EnvelopeCipher,
  key: Buffer,
  nonce: Buffer,
  plaintext: Buffer,
): Buffer {
  const c = aead(cipher, key, nonce);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function openSegment(
  cipher: EnvelopeCipher,
  key: Buffer,
  nonce: Buffer,
  sealed: Buffer,
): Buffer | undefined {
  const options = { authTagLength: SEGMENT_OVERHEAD };
  const d =
    cipher === "AES-GCM"
      ? createDecipheriv("aes-256-gcm", key, nonce, options)
      : createDecipheriv("chacha20-poly1305", key, nonce, options);
  d.setAuthTag(sealed.subarray(sealed.length - SEGMENT_OVERHEAD));
  try {
    return Buffer.concat([
      d.update(sealed.subarray(0, sealed.length - SEGMENT_OVERHEAD)),
      d.final(),
    ]);
  } catch {
    return undefined;
  }
}

/** Pulls exact byte counts out of a stream of arbitrarily sized chunks. */
class ByteReader {
  readonly #source: AsyncIterator<Uint8Array>;
  #pending: Buffer[] = [];
  #size = 0;
  #done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    for (;;) {
      const next = await this.#source.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      if (next.value.length === 0) continue;
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
      this.#pending.push(chunk);
      this.#size += chunk.length;
      return true;
    }
  }

  /** Up to `n` bytes; fewer only when the stream ended. */
  async read(n: number): Promise<Buffer> {
    while (this.#size < n && (await this.#pull()));
    const all =
      this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(out.length);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#size = rest.length;
    return out;
  }

  /** True when nothing is left. */
  async ended(): Promise<boolean> {
    return this.#size === 0 && !(await this.#pull());
  }

  /** The bytes up to (without) the next line feed, which is consumed; `limit` bounds the search. */
  async line(limit: number): Promise<Buffer | "eof" | "limit"> {
    let scanned = 0;
    for (;;) {
      const all =
        this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
      this.#pending = all.length > 0 ? [all] : [];
      const at = all.indexOf(0x0a, scanned);
      if (at >= 0 && at < limit) {
        const line = Buffer.from(all.subarray(0, at));
        const rest = all.subarray(at + 1);
        this.#pending = rest.length > 0 ? [rest] : [];
        this.#size = rest.length;
        return line;
      }
      if (at >= limit || all.length >= limit) return "limit";
      scanned = all.length;
      if (!(await this.#pull())) return "eof";
    }
  }

  /** Stops the source (e.g. an HTTP request body) when opening fails part-way. */
  async cancel(): Promise<void> {
    this.#done = true;
    await this.#source.return?.();
  }
}

function encodeManifest(m: EnvelopeManifest): string {
  // Field order and encoding as Go's encoding/json writes Dapr's Manifest struct.
  return JSON.stringify({
    ...(m.keyName ? { k: m.keyName } : {}),
    kw: KEY_WRAP_ALGORITHMS[m.algorithm],
    wfk: Buffer.from(m.wrappedKey).toString("base64"),
    cph: ENVELOPE_CIPHERS[m.cipher],
    np: Buffer.from(m.noncePrefix).toString("base64"),
  });
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeManifest(line: Buffer): EnvelopeManifest {
  // As Dapr: the exact reason stays out of the message (it would help probing), the kind does not.
  const invalid = (why: string) =>
    new EnvelopeError("manifest", `invalid header: invalid manifest (${why})`);
  let raw: unknown;
  try {
    raw = JSON.parse(line.toString("utf8"));
  } catch {
    throw invalid("not JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid("not an object");
  const o = raw as Record<string, unknown>;
  const algorithm = Object.entries(KEY_WRAP_ALGORITHMS).find(([, id]) => id === o.kw)?.[0];
  if (!algorithm) throw invalid("unknown key wrap algorithm");
  const cipher = Object.entries(ENVELOPE_CIPHERS).find(([, id]) => id === o.cph)?.[0];
  if (!cipher) throw invalid("unknown cipher");
  if (typeof o.wfk !== "string" || !BASE64.test(o.wfk) || o.wfk.length === 0)
    throw invalid("wrapped key missing");
  if (typeof o.np !== "string" || !BASE64.test(o.np)) throw invalid("nonce prefix missing");
  const noncePrefix = Buffer.from(o.np, "base64");
  if (noncePrefix.length !== NONCE_PREFIX_LENGTH) throw invalid("nonce prefix is not 7 bytes");
  if (o.k !== undefined && typeof o.k !== "string") throw invalid("key name is not a string");
  return {
    ...(typeof o.k === "string" && o.k ? { keyName: o.k } : {}),
    algorithm: algorithm as KeyWrapAlgorithm,
    wrappedKey: Buffer.from(o.wfk, "base64"),
    cipher: cipher as EnvelopeCipher,
    noncePrefix,
  };
}

/**
 * Seals `source` (any chunking) into Dapr's envelope. Resolves once the file key is wrapped
 * (failures of the options or the component reject here, before any byte), to the stream of the
 * sealed bytes: the header, then one sealed segment per 64 KiB read.
 */
export async function sealEnvelope(
  source: AsyncIterable<Uint8Array>,
  options: SealOptions,
): Promise<AsyncGenerator<Buffer>> {
  const random = randomBytes(FILE_KEY_LENGTH + NONCE_PREFIX_LENGTH);
  return sealWith(
    source,
    options,
    random.subarray(0, FILE_KEY_LENGTH),
    random.subarray(FILE_KEY_LENGTH),
  );
}

/** {@link sealEnvelope} with a given file key and nonce prefix: only for test vectors. */
export async function sealWith(
  source: AsyncIterable<Uint8Array>,
  options: SealOptions,
  fileKey: Uint8Array,
  noncePrefix: Uint8Array,
): Promise<AsyncGenerator<Buffer>> {
  if (!options.keyName) throw new EnvelopeError("options", "a key name is required");
  const algorithm = keyWrapAlgorithm(options.algorithm);
  const cipher = envelopeCipher(options.cipher);
  const wrappedKey = await options.wrapKey(fileKey, algorithm, options.keyName);
  const keyName = options.omitKeyName ? undefined : options.decryptionKeyName || options.keyName;
  const manifest = encodeManifest({
    ...(keyName ? { keyName } : {}),
    algorithm,
    wrappedKey,
    cipher,
    noncePrefix,
  });
  const keys = deriveKeys(fileKey, noncePrefix);
  const mac = headerMac(keys.mac, Buffer.from(manifest));
  const header = Buffer.from(`${ENVELOPE_SCHEME}\n${manifest}\n${mac.toString("base64")}\n`);
  if (header.length > MAX_HEADER_SIZE) {
    throw new EnvelopeError("too-large", `the header is longer than ${MAX_HEADER_SIZE} bytes`);
  }
  const reader = new ByteReader(source);
  return (async function* seal() {
    try {
      yield header;
      for (let index = 0; ; index++) {
        const plain = await reader.read(SEGMENT_SIZE);
        const last = await reader.ended();
        if (plain.length === 0) return; // an empty message has no segment at all
        if (!last && index === MAX_SEGMENTS - 1) {
          throw new EnvelopeError("too-large", `the input is longer than ${MAX_SEGMENTS} segments`);
        }
        yield sealSegment(cipher, keys.payload, nonceFor(noncePrefix, index, last), plain);
        if (last) return;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  })();
}

/**
 * Opens Dapr's envelope from `source`. Resolves once the header is read and its MAC verified
 * with the unwrapped file key (a wrong key, unknown key or altered header rejects here, before
 * any byte), to the stream of plaintext segments, each yielded only after its tag verified. A
 * tampered, reordered or truncated segment ends the stream with an EnvelopeError.
 */
export async function openEnvelope(
  source: AsyncIterable<Uint8Array>,
  options: OpenOptions,
): Promise<AsyncGenerator<Buffer>> {
  const reader = new ByteReader(source);
  try {
    return await openWith(reader, options);
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  }
}

async function openWith(reader: ByteReader, options: OpenOptions): Promise<AsyncGenerator<Buffer>> {
  const header = (what: string) => new EnvelopeError("header", `invalid header: ${what}`);
  let budget = MAX_HEADER_SIZE;
  const next = async (what: string): Promise<Buffer> => {
    const line = await reader.line(budget);
    if (line === "limit") {
      throw header(`${what} not found within the first ${MAX_HEADER_SIZE} bytes`);
    }
    if (line === "eof") throw header(`${what} not found (the input ended)`);
    budget -= line.length + 1;
    if (line.length === 0) throw header("invalid format (empty line)");
    return line;
  };
  const scheme = await next("scheme name");
  if (scheme.toString("latin1") !== ENVELOPE_SCHEME) {
    throw header(`unsupported scheme (expected ${ENVELOPE_SCHEME})`);
  }
  const manifestLine = await next("manifest");
  const macLine = (await next("message authentication code")).toString("latin1");
  const manifest = decodeManifest(manifestLine);
  const keyName = options.keyName || manifest.keyName;
  if (!keyName) {
    throw new EnvelopeError(
      "key-name-missing",
      "the document's manifest does not contain a key name, and no key name was provided",
    );
  }
  let fileKey: Uint8Array;
  try {
    fileKey = await options.unwrapKey(manifest.wrappedKey, manifest.algorithm, keyName);
    if (fileKey.length !== FILE_KEY_LENGTH) fileKey = Buffer.alloc(FILE_KEY_LENGTH);
  } catch {
    // As Dapr: a key that is missing or does not unwrap is not told apart from a wrong one, so
    // the answer does not reveal which keys exist; the MAC check below then fails.
    fileKey = Buffer.alloc(FILE_KEY_LENGTH);
  }
  const keys = deriveKeys(fileKey, manifest.noncePrefix);
  const expected = headerMac(keys.mac, manifestLine);
  const given = BASE64.test(macLine) ? Buffer.from(macLine, "base64") : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new EnvelopeError(
      "signature",
      "failed to validate the document's signature (wrong key, or the header was altered)",
    );
  }
  const { cipher, noncePrefix } = manifest;
  return (async function* open() {
    try {
      for (let index = 0; ; index++) {
        const sealed = await reader.read(SEGMENT_SIZE + SEGMENT_OVERHEAD);
        const last = await reader.ended();
        if (sealed.length === 0) return; // header only: the empty message
        if (sealed.length <= SEGMENT_OVERHEAD) {
          throw new EnvelopeError(
            "truncated",
            `failed to decrypt segment ${index}: it has ${sealed.length} bytes, not even a tag`,
          );
        }
        if (!last && index === MAX_SEGMENTS - 1) {
          throw new EnvelopeError(
            "too-large",
            `the document has more than ${MAX_SEGMENTS} segments`,
          );
        }
        const plain = openSegment(cipher, keys.payload, nonceFor(noncePrefix, index, last), sealed);
        if (!plain) {
          throw new EnvelopeError(
            "segment",
            `failed to decrypt segment ${index}: it was altered, reordered or truncated`,
          );
        }
        yield plain;
        if (last) return;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  })();
}
