import { defineManifest } from "@outrig/core";
import { postgresBindingDefinition } from "./binding.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/postgres",
  version: "0.1.0",
  components: [stateDefinition, postgresBindingDefinition],
});
