import { describeStateStoreConformance } from "@outrig/conformance";
import { createDynamoDBStateStore } from "../src/index.ts";
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
