// Throughput of the component against raw DynamoDBClient commands doing the same requests, in one
// process, as ops/s and a ratio (component / raw). Needs a DynamoDB API endpoint:
//   OUTRIG_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 pnpm --filter @outrig/dynamodb bench [ops] [rounds]
import { randomUUID } from "node:crypto";
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { alternate, median, opsPerSecond } from "@outrig/tools/bench";
import { createDynamoDBStateStore } from "../src/index.ts";

const endpoint = process.env.OUTRIG_TEST_DYNAMODB_ENDPOINT;
if (!endpoint) {
  console.error(
    "set OUTRIG_TEST_DYNAMODB_ENDPOINT to a DynamoDB API endpoint (DynamoDB Local, moto, dynalite)",
  );
  process.exit(2);
}
const ops = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 3);
const region = "us-east-1";
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
const client = new DynamoDBClient({ endpoint, region, credentials });
const table = `outrig-bench-${randomUUID()}`;
await client.send(
  new CreateTableCommand({
    TableName: table,
    KeySchema: [{ AttributeName: "key", KeyType: "HASH" }],
    AttributeDefinitions: [{ AttributeName: "key", AttributeType: "S" }],
    BillingMode: "PAY_PER_REQUEST",
  }),
);
const store = await createDynamoDBStateStore({
  table,
  region,
  endpoint,
  accessKey: credentials.accessKeyId,
  secretKey: credentials.secretAccessKey,
});
const value = { message: "hello", n: 42, tags: ["a", "b"] };
const json = JSON.stringify(value);

const cases: {
  name: string;
  raw: () => Promise<void>;
  component: () => Promise<void>;
  count?: number;
}[] = [
  {
    name: "set",
    raw: async () => {
      for (let i = 0; i < ops; i++) {
        await client.send(
          new PutItemCommand({
            TableName: table,
            Item: { key: { S: `raw-${i}` }, value: { S: json }, etag: { S: randomUUID() } },
          }),
        );
      }
    },
    component: async () => {
      for (let i = 0; i < ops; i++) await store.set({ key: `c-${i}`, value });
    },
  },
  {
    name: "get",
    raw: async () => {
      for (let i = 0; i < ops; i++) {
        const out = await client.send(
          new GetItemCommand({ TableName: table, Key: { key: { S: `raw-${i}` } } }),
        );
        new TextEncoder().encode(out.Item?.value?.S ?? "");
      }
    },
    component: async () => {
      for (let i = 0; i < ops; i++) await store.get({ key: `c-${i}` });
    },
  },
  {
    name: "bulkSet (25 per BatchWriteItem)",
    raw: async () => {
      for (let i = 0; i < ops; i += 25) {
        await client.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [table]: Array.from({ length: 25 }, (_, j) => ({
                PutRequest: {
                  Item: {
                    key: { S: `rb-${i + j}` },
                    value: { S: json },
                    etag: { S: randomUUID() },
                  },
                },
              })),
            },
          }),
        );
      }
    },
    component: async () => {
      for (let i = 0; i < ops; i += 25) {
        await store.bulkSet(Array.from({ length: 25 }, (_, j) => ({ key: `cb-${i + j}`, value })));
      }
    },
  },
];

console.log(`${endpoint}: ${ops} operations per case, median of ${rounds} rounds`);
try {
  for (const c of cases) {
    const runs = await alternate(rounds, {
      raw: () => opsPerSecond(ops, c.raw),
      component: () => opsPerSecond(ops, c.component),
    });
    const raw = median(runs.raw);
    const component = median(runs.component);
    console.log(
      `${c.name.padEnd(32)} raw ${raw.toFixed(0).padStart(7)} ops/s   component ${component
        .toFixed(0)
        .padStart(7)} ops/s   ratio ${(component / raw).toFixed(2)}`,
    );
  }
} finally {
  await store.close();
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
}
