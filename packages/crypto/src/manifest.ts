import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { jwksCryptoDefinition } from "./jwks.ts";
import { localStorageCryptoDefinition } from "./localstorage.ts";

export const manifest = defineManifest({
  packageName: "@outrig/crypto",
  version: pkg.version,
  components: [localStorageCryptoDefinition, jwksCryptoDefinition],
});
