import { defineManifest } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { kafkaBindingDefinition } from "./binding.ts";
import { pubsubDefinition } from "./pubsub.ts";

export const manifest = defineManifest({
  packageName: "@outrig/kafka",
  version: pkg.version,
  components: [pubsubDefinition, kafkaBindingDefinition],
});
