import { defineManifest } from "@outrig/core";
import { mqttBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/mqtt",
  version: "0.1.0",
  components: [pubsubDefinition, mqttBindingDefinition],
});
