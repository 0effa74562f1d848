import { pingDynamoDB } from "./probes.ts";
import { startContainer, useExternal } from "./service.ts";
import type { DynamoDBService, StartServiceOptions } from "./types.ts";

const OVERRIDE = "OUTRIG_TEST_DYNAMODB_ENDPOINT";
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "outrig", secretAccessKey: "outrig" };

/**
 * A DynamoDB API emulator in a container (moto's DynamoDB by default: in memory, any credentials,
 * transactions and TTL settings; expired items are not deleted), or
 * the endpoint `OUTRIG_TEST_DYNAMODB_ENDPOINT` names (`http://host:port`).
 */
export async function startDynamoDB(options: StartServiceOptions = {}): Promise<DynamoDBService> {
  const override = options.container ? undefined : process.env[OVERRIDE];
  if (override) {
    const url = new URL(override);
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    const endpoint = override.replace(/\/$/, "");
    const base = await useExternal(
      "dynamodb",
      OVERRIDE,
      url.hostname,
      port,
      () => pingDynamoDB(endpoint, REGION),
      options.readyTimeoutMs,
    );
    return { ...base, name: "dynamodb", url: endpoint, endpoint, region: REGION, ...CREDENTIALS };
  }
  const base = await startContainer(
    {
      name: "dynamodb",
      containerPort: 8000,
      probe: (host, port) => pingDynamoDB(`http://${host}:${port}`, REGION),
    },
    options,
  );
  const endpoint = `http://${base.host}:${base.port}`;
  return { ...base, name: "dynamodb", url: endpoint, endpoint, region: REGION, ...CREDENTIALS };
}
