import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { cronBindingDefinition } from "./binding.ts";

export const manifest = defineManifest({
  packageName: "@outrig/cron",
  version: pkg.version,
  components: [cronBindingDefinition],
});
