// Dapr's DynamoDB layout through the sidecar, both ways: a saved item is {key: <appid>||<key>,
// value, etag} as Dapr's component reads it, and an item Dapr wrote is served (issue 15 §2).
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { silentLogger } from "@outrig/core";
import { createRegistry, type Sidecar, startSidecar } from "@outrig/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../src/index.ts";
import { clientFor, createTestTable, useDynamoDB } from "./service.ts";

const dynamodb = await useDynamoDB();
const table = await createTestTable(dynamodb);
const client = clientFor(dynamodb);
let s: Sidecar;

beforeAll(async () => {
  const metadata = Object.entries({ ...table.metadata, ttlAttributeName: "expiresAt" })
    .map(([name, value]) => `    - { name: ${name}, value: "${value}" }`)
    .join("\n");
  s = await startSidecar({
    appId: "orders",
    httpPort: 0,
    logger: silentLogger,
    registry: createRegistry({ manifests: [manifest], discover: false }),
    resources: `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ddb
spec:
  type: state.aws.dynamodb
  metadata:
${metadata}
`,
  });
});
afterAll(async () => {
  await s?.stop();
  client.destroy();
});

const item = async (key: string) =>
  (await client.send(new GetItemCommand({ TableName: table.name, Key: { key: { S: key } } }))).Item;

describe("state.aws.dynamodb through the sidecar, as Dapr's component lays it out", () => {
  it("a saved JSON value is {key: <appid>||<key>, value: S JSON text, etag}, expiresAt with a TTL", async () => {
    const save = await fetch(`${s.url}/v1.0/state/ddb?metadata.ttlInSeconds=600`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "order-1", value: { name: "zed" } }]),
    });
    expect(save.status).toBe(204);
    const raw = await item("orders||order-1");
    expect(raw?.value).toEqual({ S: '{"name":"zed"}' });
    expect(Number(raw?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
    const get = await fetch(`${s.url}/v1.0/state/ddb/order-1`);
    expect(get.headers.get("etag")).toBe(raw?.etag?.S);
    expect(await get.json()).toEqual({ name: "zed" });
  });

  it("an item Dapr wrote is served, and its etag guards the next write", async () => {
    await client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: {
          key: { S: "orders||from-dapr" },
          value: { S: '"by daprd"' },
          etag: { S: "a1b2c3" },
        },
      }),
    );
    const get = await fetch(`${s.url}/v1.0/state/ddb/from-dapr`);
    expect(get.headers.get("etag")).toBe("a1b2c3");
    expect(await get.json()).toBe("by daprd");
    const stale = await fetch(`${s.url}/v1.0/state/ddb`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ key: "from-dapr", value: "x", etag: "0000" }]),
    });
    expect(stale.status).toBe(409);
    expect((await item("orders||from-dapr"))?.value).toEqual({ S: '"by daprd"' });
  });
});
