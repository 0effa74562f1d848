import { defineManifest } from "@outrig/core";
import { rabbitmqBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/rabbitmq",
  version: "0.1.0",
  components: [pubsubDefinition, rabbitmqBindingDefinition],
});
