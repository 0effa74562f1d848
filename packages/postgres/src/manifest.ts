import { defineManifest } from "@outrig/core";
import { postgresBindingDefinition } from "./binding.ts";
import { stateDefinition } from "./state.ts";

export const manifest = defineManifest({
  packageName: "@outrig/postgres",
  version: "0.1.0",
  // Aliases as daprd registers them (cmd/daprd/components/state_postgres.go, binding_postgres.go).
  components: [
    { ...stateDefinition, aliases: ["state.postgres"] },
    { ...postgresBindingDefinition, aliases: ["bindings.postgres"] },
  ],
});
