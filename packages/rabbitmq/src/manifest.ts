import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { rabbitmqBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/rabbitmq",
  version: pkg.version,
  components: [pubsubDefinition, rabbitmqBindingDefinition],
});
