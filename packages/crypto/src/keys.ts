import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { ComponentError } from "@outrig/core";

/** The JWK fields that restrict what a key may do (RFC 7517 `use`, `key_ops`, `alg`). */
export interface KeyUsage {
  kid?: string;
  alg?: string;
  use?: string;
  keyOps?: readonly string[];
}

/** A key as a component holds it: never handed out, only used. */
export type LocalKey =
  | { readonly type: "oct"; readonly bytes: Buffer; readonly usage: KeyUsage }
  | { readonly type: "private" | "public"; readonly key: KeyObject; readonly usage: KeyUsage };

/** How a key file is to be read: by its extension, or guessed from its bytes as Dapr does. */
export type KeyFormat = "jwk" | "pem" | undefined;

function usageOf(jwk: Record<string, unknown>): KeyUsage {
  return {
    ...(typeof jwk.kid === "string" ? { kid: jwk.kid } : {}),
    ...(typeof jwk.alg === "string" ? { alg: jwk.alg } : {}),
    ...(typeof jwk.use === "string" ? { use: jwk.use } : {}),
    ...(Array.isArray(jwk.key_ops) ? { keyOps: jwk.key_ops.map(String) } : {}),
  };
}

/** One JWK object (RFC 7517) as a key: `oct` as its bytes, others as a Node KeyObject. */
export function keyFromJwk(jwk: Record<string, unknown>): LocalKey {
  const usage = usageOf(jwk);
  if (jwk.kty === "oct") {
    if (typeof jwk.k !== "string" || !/^[A-Za-z0-9_-]*$/.test(jwk.k)) {
      throw new ComponentError("ERR_INVALID_REQUEST", 'an "oct" JWK needs its "k" in base64url');
    }
    return { type: "oct", bytes: Buffer.from(jwk.k, "base64url"), usage };
  }
  if (jwk.kty !== "RSA" && jwk.kty !== "EC" && jwk.kty !== "OKP") {
    throw new ComponentError("ERR_INVALID_REQUEST", `invalid key type ${String(jwk.kty)}`);
  }
  const input = { key: jwk as JsonWebKey, format: "jwk" as const };
  return jwk.d === undefined
    ? { type: "public", key: createPublicKey(input), usage }
    : { type: "private", key: createPrivateKey(input), usage };
}

function keyFromPem(raw: Buffer): LocalKey {
  try {
    return { type: "private", key: createPrivateKey(raw), usage: {} };
  } catch (privateError) {
    try {
      return { type: "public", key: createPublicKey(raw), usage: {} };
    } catch {
      throw privateError;
    }
  }
}

/**
 * A symmetric key file as Dapr reads one: base64 (standard, then URL alphabet) when it decodes as
 * such, otherwise the raw bytes (`openssl rand -out key 32`). Unlike Dapr, padding before a final
 * line break is accepted too (Dapr would take such a file as raw bytes of the wrong length).
 */
function symmetricKey(raw: Buffer): LocalKey {
  const text = raw.toString("latin1");
  const trimmed = text.replace(/[\r\n]/g, "").replace(/=+$/, "");
  if (trimmed.length % 4 !== 1) {
    if (/^[A-Za-z0-9+/]+$/.test(trimmed))
      return { type: "oct", bytes: Buffer.from(trimmed, "base64"), usage: {} };
    if (/^[A-Za-z0-9_-]+$/.test(trimmed))
      return { type: "oct", bytes: Buffer.from(trimmed, "base64url"), usage: {} };
  }
  return { type: "oct", bytes: Buffer.from(raw), usage: {} };
}

/**
 * Parses a key file's bytes: a JWK (JSON), a PEM (PKCS#1, PKCS#8 or SPKI; private or public), or
 * a raw symmetric key, following Dapr's rules (dapr/kit `crypto.ParseKey`): the extension decides
 * when it is `.json` or `.pem`; otherwise JSON is assumed for `{...` unless the file is 16, 24 or
 * 32 bytes long, PEM for `-----...`, and a symmetric key for anything else.
 */
export function parseKey(raw: Buffer, format: KeyFormat): LocalKey {
  if (raw.length === 0) throw new ComponentError("ERR_INVALID_REQUEST", "the key is empty");
  const asJwk = (): LocalKey => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch (error) {
      throw new ComponentError("ERR_INVALID_REQUEST", "the key is not valid JSON", {
        cause: error,
      });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ComponentError("ERR_INVALID_REQUEST", "a JWK must be a JSON object");
    }
    return keyFromJwk(parsed as Record<string, unknown>);
  };
  if (format === "jwk") return asJwk();
  if (format === "pem") return keyFromPem(raw);
  const l = raw.length;
  if (raw[0] === 0x7b && l !== 16 && l !== 24 && l !== 32) return asJwk();
  if (l > 10 && raw.toString("latin1", 0, 5) === "-----") return keyFromPem(raw);
  return symmetricKey(raw);
}

/** The key format a file name implies (`.json` JWK, `.pem` PEM), as Dapr's localstorage. */
export function formatOfFile(name: string): KeyFormat {
  const lower = name.toLowerCase();
  if (lower.endsWith(".json")) return "jwk";
  if (lower.endsWith(".pem")) return "pem";
  return undefined;
}
