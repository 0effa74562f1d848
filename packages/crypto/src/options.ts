import { defineOptions, option, type ParsedOptions } from "@outrig/core";

/** Dapr's `crypto.dapr.localstorage` metadata. */
export const localStorageOptions = defineOptions("crypto.dapr.localstorage", {
  path: option.string({
    required: true,
    description:
      "Folder holding the keys, one per file, named by the key name: PEM (PKCS#1, PKCS#8, SPKI), a JSON JWK, or a raw or base64 symmetric key",
    example: "./keys",
  }),
});

export type LocalStorageOptions = ParsedOptions<typeof localStorageOptions.fields>;

/** Dapr's `crypto.dapr.jwks` metadata. */
export const jwksOptions = defineOptions("crypto.dapr.jwks", {
  jwks: option.string({
    required: true,
    sensitive: true,
    description:
      "The JWKS: its JSON (optionally base64-encoded), a path to a file holding it, or an http(s) URL serving it",
    example: "https://example.com/.well-known/jwks.json",
  }),
  requestTimeout: option.duration({
    default: 30_000,
    description: "Timeout of each request for a JWKS URL",
    example: "30s",
  }),
  minRefreshInterval: option.duration({
    default: 600_000,
    description:
      "Shortest interval between two reloads of a JWKS URL or file, which happen when a key name is not in the set",
    example: "10m",
  }),
});

export type JwksOptions = ParsedOptions<typeof jwksOptions.fields>;
