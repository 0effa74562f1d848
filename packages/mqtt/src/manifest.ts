import { defineManifest } from "@outrig/core";
import { mqttBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/mqtt",
  version: "0.1.0",
  // Aliases as daprd registers them (cmd/daprd/components/pubsub_mqtt3.go, binding_mqtt3.go).
  components: [
    { ...pubsubDefinition, aliases: ["pubsub.mqtt"] },
    { ...mqttBindingDefinition, aliases: ["bindings.mqtt"] },
  ],
});
