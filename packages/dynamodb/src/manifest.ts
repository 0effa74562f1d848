import { defineManifest, type StateStoreDefinition } from "@outrig/core";
import pkg from "../package.json" with { type: "json" };
import { COMPONENT_TYPE, dynamodbOptions } from "./options.ts";
import { openDynamoDBStateStore } from "./state.ts";

export const stateDefinition: StateStoreDefinition = {
  type: COMPONENT_TYPE,
  kind: "state",
  version: "v1",
  status: "beta",
  description:
    "State in an Amazon DynamoDB table (one item per key; TTL when ttlAttributeName is set)",
  // An instance declares TTL only with ttlAttributeName, ACTOR only with actorStateStore=true.
  capabilities: ["ETAG", "TRANSACTIONAL", "TTL", "ACTOR"],
  options: dynamodbOptions,
  create: (metadata, context) => openDynamoDBStateStore(metadata, context),
};

export const manifest = defineManifest({
  packageName: "@outrig/dynamodb",
  version: pkg.version,
  components: [stateDefinition],
});
