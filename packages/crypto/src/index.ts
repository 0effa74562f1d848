export { createJwksCrypto, JwksCrypto, jwksCryptoDefinition, MAX_JWKS_BYTES } from "./jwks.ts";
export type { KeyFormat, KeyUsage, LocalKey } from "./keys.ts";
export { keyFromJwk, parseKey } from "./keys.ts";
export { LocalCryptoProvider, unwrapWith, wrapWith } from "./local-crypto.ts";
export {
  createLocalStorageCrypto,
  LocalStorageCrypto,
  localStorageCryptoDefinition,
} from "./localstorage.ts";
export { manifest } from "./manifest.ts";
export type { JwksOptions, LocalStorageOptions } from "./options.ts";
export { jwksOptions, localStorageOptions } from "./options.ts";
