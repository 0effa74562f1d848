import { defineManifest } from "@outrig/core";
import { cronBindingDefinition } from "./binding.ts";

export const manifest = defineManifest({
  packageName: "@outrig/cron",
  version: "0.1.0",
  components: [cronBindingDefinition],
});
