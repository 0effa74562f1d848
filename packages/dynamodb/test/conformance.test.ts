import {
  describeSidecarConformance,
  describeStateStoreConformance,
  type StartSidecar,
} from "@outrig/conformance";
import { silentLogger } from "@outrig/core";
import { createRegistry, startSidecar } from "@outrig/runtime";
import { createDynamoDBStateStore, manifest } from "../src/index.ts";
import { createTestTable, useDynamoDB } from "./service.ts";

const dynamodb = await useDynamoDB();
const table = await createTestTable(dynamodb);
const customKeyTable = await createTestTable(dynamodb, { partitionKey: "id", ttl: false });

describeStateStoreConformance({
  name: "dynamodb-ttl-actor",
  create: () =>
    createDynamoDBStateStore({
      ...table.metadata,
      ttlAttributeName: "expiresAt",
      actorStateStore: "true",
    }),
});

describeStateStoreConformance({
  name: "dynamodb-no-ttl",
  create: () => createDynamoDBStateStore(table.metadata),
});

describeStateStoreConformance({
  name: "dynamodb-custom-partition-key",
  create: () => createDynamoDBStateStore(customKeyTable.metadata),
});

/** The real sidecar (@outrig/runtime, a devDependency) with this package's components. */
const start: StartSidecar = (options) =>
  startSidecar({
    ...options,
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
  });

// The sidecar suite over the same service and table (one container per file run).
describeSidecarConformance({
  name: "dynamodb-ttl-actor",
  startSidecar: start,
  state: {
    type: "state.aws.dynamodb",
    metadata: { ...table.metadata, ttlAttributeName: "expiresAt", actorStateStore: "true" },
  },
});

describeSidecarConformance({
  name: "dynamodb-no-ttl",
  startSidecar: start,
  state: { type: "state.aws.dynamodb", metadata: table.metadata },
});
