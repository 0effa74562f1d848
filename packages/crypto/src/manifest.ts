import { defineManifest } from "@outrig/core";
import { jwksCryptoDefinition } from "./jwks.ts";
import { localStorageCryptoDefinition } from "./localstorage.ts";

export const manifest = defineManifest({
  packageName: "@outrig/crypto",
  version: "0.1.0",
  components: [localStorageCryptoDefinition, jwksCryptoDefinition],
});
