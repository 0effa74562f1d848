import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { mqttBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/mqtt",
  version: pkg.version,
  // Aliases as daprd registers them (cmd/daprd/components/pubsub_mqtt3.go, binding_mqtt3.go).
  components: [
    { ...pubsubDefinition, aliases: ["pubsub.mqtt"] },
    { ...mqttBindingDefinition, aliases: ["bindings.mqtt"] },
  ],
});
