import { readFile, stat } from "node:fs/promises";
import {
  type ComponentContext,
  ComponentError,
  ConfigError,
  type CryptoProviderDefinition,
  type Logger,
  type Metadata,
  silentLogger,
} from "@outrig/core";
import { keyFromJwk, type LocalKey } from "./keys.ts";
import { LocalCryptoProvider } from "./local-crypto.ts";
import { type JwksOptions, jwksOptions } from "./options.ts";

const COMPONENT = "crypto.dapr.jwks";
/** A JWKS document larger than this is refused rather than buffered. */
export const MAX_JWKS_BYTES = 1024 * 1024;

type Source =
  | { kind: "inline"; text: string }
  | { kind: "file"; path: string }
  | { kind: "url"; url: string };

/** Keys by `kid`; a key without one cannot be named and is skipped. */
function parseSet(text: string, where: string): Map<string, LocalKey> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ComponentError("ERR_INVALID_REQUEST", `${where} is not JSON`, { cause: error });
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    throw new ComponentError("ERR_INVALID_REQUEST", `${where} is not a JWKS (no "keys" array)`);
  }
  const out = new Map<string, LocalKey>();
  keys.forEach((k, i) => {
    if (typeof k !== "object" || k === null) {
      throw new ComponentError("ERR_INVALID_REQUEST", `${where}: keys[${i}] is not an object`);
    }
    const jwk = k as Record<string, unknown>;
    if (typeof jwk.kid !== "string" || !jwk.kid) return;
    try {
      out.set(jwk.kid, keyFromJwk(jwk));
    } catch (error) {
      throw new ComponentError(
        "ERR_INVALID_REQUEST",
        `${where}: key ${jwk.kid}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  });
  return out;
}

/**
 * `crypto.dapr.jwks`: the keys of a JSON Web Key Set, named by `kid`, given inline, in a file or
 * at a URL. A name missing from the set reloads the file or URL (at most once per
 * `minRefreshInterval`), so rotated keys are picked up, as Dapr's JWKS cache does.
 */
export class JwksCrypto extends LocalCryptoProvider {
  readonly #source: Source;
  readonly #options: JwksOptions;
  readonly #logger: Logger;
  #keys: Map<string, LocalKey> = new Map();
  #loadedAt = 0;
  #fileMtime = 0;
  #reloading: Promise<void> | undefined;

  constructor(source: Source, options: JwksOptions, logger: Logger) {
    super(COMPONENT);
    this.#source = source;
    this.#options = options;
    this.#logger = logger;
  }

  /** Loads the set; a failure here fails the component's start. */
  async load(): Promise<void> {
    const source = this.#source;
    if (source.kind === "inline") {
      this.#keys = parseSet(source.text, "metadata jwks");
    } else if (source.kind === "file") {
      const info = await stat(source.path);
      if (info.size > MAX_JWKS_BYTES) {
        throw new ComponentError(
          "ERR_INVALID_REQUEST",
          `${source.path} is larger than ${MAX_JWKS_BYTES} bytes`,
        );
      }
      this.#keys = parseSet(await readFile(source.path, "utf8"), source.path);
      this.#fileMtime = info.mtimeMs;
    } else {
      this.#keys = parseSet(await this.#fetch(source.url), source.url);
    }
    this.#loadedAt = Date.now();
  }

  async #fetch(url: string): Promise<string> {
    const signal = AbortSignal.any([
      this.closingSignal,
      AbortSignal.timeout(this.#options.requestTimeout),
    ]);
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: "application/json" } });
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      throw this.errors.error(
        timedOut ? "ERR_TIMEOUT" : "ERR_UNAVAILABLE",
        timedOut
          ? `failed to fetch JWKS from ${url}: no answer within ${this.#options.requestTimeout}ms (requestTimeout)`
          : `failed to fetch JWKS from ${url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw this.errors.error(
        "ERR_UNAVAILABLE",
        `failed to fetch JWKS from ${url}: HTTP ${response.status}`,
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    // Leaving the loop early cancels the body, so an oversize answer is never read to its end.
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > MAX_JWKS_BYTES) break;
      chunks.push(chunk);
    }
    if (size > MAX_JWKS_BYTES) {
      throw this.errors.invalid(`the JWKS at ${url} is larger than ${MAX_JWKS_BYTES} bytes`);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async #reloadIfDue(): Promise<void> {
    if (this.#source.kind === "inline") return;
    if (Date.now() - this.#loadedAt < this.#options.minRefreshInterval) {
      // A file changed on disk is read again at once (Dapr watches the file).
      if (this.#source.kind !== "file") return;
      const info = await stat(this.#source.path).catch(() => undefined);
      if (!info || info.mtimeMs === this.#fileMtime) return;
    }
    this.#reloading ??= this.load()
      .catch((error: unknown) => {
        this.#logger.warn("crypto.dapr.jwks: reloading the JWKS failed; the previous set stays", {
          error: (error as Error).message,
        });
        this.#loadedAt = Date.now();
      })
      .finally(() => {
        this.#reloading = undefined;
      });
    await this.#reloading;
  }

  protected async retrieveKey(keyName: string): Promise<LocalKey> {
    let key = this.#keys.get(keyName);
    if (!key) {
      await this.#reloadIfDue();
      key = this.#keys.get(keyName);
    }
    if (!key) {
      throw this.errors.error("ERR_NOT_FOUND", `key ${keyName} not found in the JWKS`);
    }
    return key;
  }
}

/** Where the `jwks` value points, decided as Dapr's JWKS cache does. */
async function sourceOf(value: string): Promise<Source> {
  if (value.startsWith("https://") || value.startsWith("http://"))
    return { kind: "url", url: value };
  const info = await stat(value).catch(() => undefined);
  if (info?.isFile()) return { kind: "file", path: value };
  const trimmed = value.replace(/=+$/, "");
  if (/^[A-Za-z0-9+/]+$/.test(trimmed) && trimmed.length % 4 !== 1) {
    return { kind: "inline", text: Buffer.from(trimmed, "base64").toString("utf8") };
  }
  return { kind: "inline", text: value };
}

/** Creates `crypto.dapr.jwks` from Dapr metadata and loads the set (within `requestTimeout`). */
export async function createJwksCrypto(
  metadata: Metadata,
  context?: ComponentContext,
): Promise<JwksCrypto> {
  const options = jwksOptions.parse(metadata);
  const source = await sourceOf(options.jwks);
  const logger = context?.logger ?? silentLogger;
  if (source.kind === "url" && source.url.startsWith("http://")) {
    logger.warn("crypto.dapr.jwks: loading a JWKS over HTTP without TLS is not recommended");
  }
  const component = new JwksCrypto(source, options, logger);
  try {
    await component.load();
  } catch (error) {
    await component.close();
    if (source.kind === "inline") {
      throw new ConfigError(
        [
          {
            field: "jwks",
            message: `not a URL, a path to a local file, or a JWKS (optionally base64-encoded): ${(error as Error).message}`,
          },
        ],
        { component: COMPONENT, cause: error },
      );
    }
    throw error;
  }
  return component;
}

export const jwksCryptoDefinition: CryptoProviderDefinition = {
  type: COMPONENT,
  kind: "crypto",
  version: "v1",
  status: "alpha",
  description: "Keys of a JSON Web Key Set (inline, file or URL), used inside the sidecar",
  capabilities: [],
  options: jwksOptions,
  create: createJwksCrypto,
};
