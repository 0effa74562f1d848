import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { type DynamoDBService, startDynamoDB } from "@outrig/conformance/services";
import { afterAll } from "vitest";

/**
 * The DynamoDB API the tests talk to: a container started through the conformance services, or
 * the running endpoint named by OUTRIG_TEST_DYNAMODB_ENDPOINT. Started while the file is collected,
 * because the conformance suite creates its store then.
 */
export async function useDynamoDB(): Promise<DynamoDBService> {
  let service: DynamoDBService;
  try {
    service = await startDynamoDB();
  } catch (error) {
    throw new Error(
      "DynamoDB test service unavailable: run `source conformance/scripts/services-up.sh` (podman + local images) " +
        "or point OUTRIG_TEST_DYNAMODB_ENDPOINT at a running DynamoDB API (e.g. dynalite: " +
        "`npx dynalite --port 8000`, then OUTRIG_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000)",
      { cause: error },
    );
  }
  afterAll(() => service.stop());
  return service;
}

export function clientFor(service: DynamoDBService): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: service.endpoint,
    region: service.region,
    credentials: { accessKeyId: service.accessKeyId, secretAccessKey: service.secretAccessKey },
  });
}

export interface TestTable {
  name: string;
  /** Dapr metadata pointing a store at this table. */
  metadata: Record<string, string>;
}

/** Creates a table with a unique name (hash key `partitionKey`, TTL on expiresAt) and drops it afterwards. */
export async function createTestTable(
  service: DynamoDBService,
  options: { partitionKey?: string; ttl?: boolean } = {},
): Promise<TestTable> {
  const partitionKey = options.partitionKey ?? "key";
  const name = `outrig-test-${randomUUID()}`;
  const client = clientFor(service);
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: name });
  if (options.ttl !== false) {
    // Enabling TTL only lets DynamoDB delete expired items; reads hide them either way, so an
    // emulator without UpdateTimeToLive (dynalite) still runs the TTL cases.
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        }),
      )
      .catch((error: unknown) => {
        if ((error as Error).name !== "UnknownOperationException") throw error;
      });
  }
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    client.destroy();
  });
  return {
    name,
    metadata: {
      table: name,
      region: service.region,
      endpoint: service.endpoint,
      accessKey: service.accessKeyId,
      secretKey: service.secretAccessKey,
      ...(partitionKey !== "key" ? { partitionKey } : {}),
    },
  };
}
