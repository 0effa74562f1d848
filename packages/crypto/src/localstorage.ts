import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import {
  type ComponentContext,
  ConfigError,
  type CryptoProviderDefinition,
  type Metadata,
} from "@outrig/core";
import { formatOfFile, type LocalKey, parseKey } from "./keys.ts";
import { LocalCryptoProvider } from "./local-crypto.ts";
import { localStorageOptions } from "./options.ts";

const COMPONENT = "crypto.dapr.localstorage";

/**
 * `crypto.dapr.localstorage`: keys read from files in one folder, the key name being the file
 * name (`rsa-private-key.pem`, `symmetric-key-256`). Each use reads the file afresh, as Dapr's, so
 * a key replaced on disk applies to the next request.
 */
export class LocalStorageCrypto extends LocalCryptoProvider {
  readonly root: string;

  constructor(root: string) {
    super(COMPONENT);
    this.root = root;
  }

  protected async retrieveKey(keyName: string): Promise<LocalKey> {
    // As Dapr: a key name may not climb out of the folder.
    if (keyName.includes("..") || isAbsolute(keyName) || keyName.includes("\0")) {
      throw this.errors.invalid("invalid key path: cannot contain '..'");
    }
    let raw: Buffer;
    try {
      raw = await readFile(join(this.root, keyName));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw this.errors.error(
        code === "ENOENT" || code === "EISDIR" ? "ERR_NOT_FOUND" : "ERR_INTERNAL",
        `failed to load key '${keyName}': ${code === "ENOENT" ? "no such key" : (error as Error).message}`,
        { cause: error },
      );
    }
    try {
      return parseKey(raw, formatOfFile(keyName));
    } catch (error) {
      throw this.errors.invalid(`failed to parse key '${keyName}': ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** Creates `crypto.dapr.localstorage` from Dapr metadata (`path`, which must be a folder). */
export async function createLocalStorageCrypto(
  metadata: Metadata,
  _context?: ComponentContext,
): Promise<LocalStorageCrypto> {
  const options = localStorageOptions.parse(metadata);
  const root = resolve(options.path);
  const info = await stat(root).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error || !info.isDirectory()) {
    throw new ConfigError(
      [
        {
          field: "path",
          message:
            info instanceof Error
              ? `could not stat path '${options.path}': ${info.code ?? info.message}`
              : `path '${options.path}' is not a directory`,
        },
      ],
      { component: COMPONENT },
    );
  }
  return new LocalStorageCrypto(root);
}

export const localStorageCryptoDefinition: CryptoProviderDefinition = {
  type: COMPONENT,
  kind: "crypto",
  version: "v1",
  status: "alpha",
  description:
    "Keys from files in a local folder (PEM, JWK, raw symmetric), used inside the sidecar",
  capabilities: [],
  options: localStorageOptions,
  create: createLocalStorageCrypto,
};
