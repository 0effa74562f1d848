import { defineManifest } from "@outrig/core";
import { kafkaBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/kafka",
  version: "0.1.0",
  components: [pubsubDefinition, kafkaBindingDefinition],
});
