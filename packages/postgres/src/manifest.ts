import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { postgresBindingDefinition } from "./binding.ts";
import { configurationDefinition } from "./configuration.ts";
import { lockDefinition } from "./lock.ts";
import { stateDefinition } from "./state.ts";
import { stateV2Definition } from "./state-v2.ts";

export const manifest = defineManifest({
  packageName: "@outrig/postgres",
  version: pkg.version,
  // Aliases as daprd registers them (cmd/daprd/components/state_postgres.go, binding_postgres.go).
  // v1 first: a component YAML without `version` gets v1, as in Dapr.
  components: [
    { ...stateDefinition, aliases: ["state.postgres"] },
    { ...stateV2Definition, aliases: ["state.postgres"] },
    { ...postgresBindingDefinition, aliases: ["bindings.postgres"] },
    configurationDefinition,
    lockDefinition,
  ],
});
